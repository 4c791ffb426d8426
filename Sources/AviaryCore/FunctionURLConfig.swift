/// A function URL's configuration (`CreateFunctionUrlConfig`): who may call it and its CORS rules. A
/// function has at most one for itself (unqualified: `$LATEST`) and one per alias.
public struct FunctionURLConfig: Sendable, Hashable, Codable {
    public enum AuthType: String, Sendable, Hashable, Codable, CaseIterable {
        /// Anyone who can reach the server.
        case noAuth = "NONE"
        /// Callers with a SigV4 signature from one of the server's keys (`serve --auth`).
        case awsIAM = "AWS_IAM"
    }

    /// Cross-origin rules, as Lambda applies them: preflight requests are answered without invoking the
    /// function, and matching origins get the `Access-Control-*` headers on every response.
    public struct Cors: Sendable, Hashable, Codable {
        public var allowCredentials: Bool?
        public var allowHeaders: [String]?
        public var allowMethods: [String]?
        public var allowOrigins: [String]?
        public var exposeHeaders: [String]?
        public var maxAge: Int?

        public init(
            allowCredentials: Bool? = nil, allowHeaders: [String]? = nil, allowMethods: [String]? = nil,
            allowOrigins: [String]? = nil, exposeHeaders: [String]? = nil, maxAge: Int? = nil
        ) {
            self.allowCredentials = allowCredentials
            self.allowHeaders = allowHeaders
            self.allowMethods = allowMethods
            self.allowOrigins = allowOrigins
            self.exposeHeaders = exposeHeaders
            self.maxAge = maxAge
        }

        static let methods: Set<String> = ["GET", "PUT", "HEAD", "POST", "PATCH", "DELETE", "*"]

        /// Lambda's limits: at most 100 origins (1–253 characters) and headers (up to 1,024), the six
        /// methods or `*`, a max age of 0–86400 seconds.
        func validated() throws(LambdaError) -> Cors {
            func check(_ list: [String]?, field: String, max: Int, length: ClosedRange<Int>) throws(LambdaError) {
                guard let list else { return }
                if list.count > max {
                    throw .validation(
                        value: "\(list)", field: field,
                        constraint: "Member must have length less than or equal to \(max)")
                }
                for item in list where !length.contains(item.count) {
                    throw .validation(
                        value: item, field: field,
                        constraint: "Member must have length between \(length.lowerBound) and \(length.upperBound)")
                }
            }
            try check(allowOrigins, field: "cors.allowOrigins", max: 100, length: 1...253)
            try check(allowHeaders, field: "cors.allowHeaders", max: 100, length: 0...1024)
            try check(exposeHeaders, field: "cors.exposeHeaders", max: 100, length: 0...1024)
            try check(allowMethods, field: "cors.allowMethods", max: 6, length: 0...6)
            var cors = self
            cors.allowMethods = allowMethods?.map { $0.uppercased() }
            for method in cors.allowMethods ?? [] where !Self.methods.contains(method) {
                throw .invalidParameterValue(
                    "\(method) is not a valid CORS method: use GET, PUT, HEAD, POST, PATCH, DELETE or *")
            }
            if let maxAge, !(0...86400).contains(maxAge) {
                throw .validation(
                    value: "\(maxAge)", field: "cors.maxAge",
                    constraint: "Member must have value between 0 and 86400")
            }
            return cors
        }

        /// The `Access-Control-Allow-Origin` value for a request from `origin`, or nil if it may not read
        /// the response.
        public func allowedOrigin(_ origin: String) -> String? {
            guard let origins = allowOrigins else { return nil }
            if origins.contains(origin) { return origin }
            return origins.contains("*") ? (allowCredentials == true ? origin : "*") : nil
        }
    }

    public static let bufferedMode = "BUFFERED"

    public var authType: AuthType
    public var cors: Cors?
    public var invokeMode: String
    public let creationTime: Timestamp
    public var lastModifiedTime: Timestamp

    public init(authType: AuthType, cors: Cors?, invokeMode: String, creationTime: Timestamp, lastModifiedTime: Timestamp) {
        self.authType = authType
        self.cors = cors
        self.invokeMode = invokeMode
        self.creationTime = creationTime
        self.lastModifiedTime = lastModifiedTime
    }

    public static func authType(validating raw: String) throws(LambdaError) -> AuthType {
        guard let type = AuthType(rawValue: raw) else {
            throw .validation(value: raw, field: "authType", constraint: "Member must satisfy enum value set: [NONE, AWS_IAM]")
        }
        return type
    }

    /// Only buffered responses: Aviary does not stream.
    static func invokeMode(validating raw: String?) throws(LambdaError) -> String {
        switch raw {
        case nil, bufferedMode?: return bufferedMode
        case "RESPONSE_STREAM"?:
            throw .invalidParameterValue("Aviary's function URLs buffer responses: InvokeMode RESPONSE_STREAM is not supported.")
        case let other?:
            throw .validation(value: other, field: "invokeMode", constraint: "Member must satisfy enum value set: [BUFFERED, RESPONSE_STREAM]")
        }
    }
}

extension LambdaFunction {
    /// Creates the URL configuration of the function (`alias` nil) or of one of its aliases.
    public mutating func createURLConfig(
        alias: AliasName?, authType: FunctionURLConfig.AuthType, cors: FunctionURLConfig.Cors?, invokeMode: String?,
        scope: AccountScope, at now: Timestamp
    ) throws(LambdaError) -> FunctionURLConfig {
        try requireURLTarget(alias, scope: scope)
        let mode = try FunctionURLConfig.invokeMode(validating: invokeMode)
        let cors = try cors?.validated()
        guard urlConfigs[alias] == nil else {
            throw .resourceConflict(
                "Failed to create function url config for [functionArn = \(urlARN(alias, scope: scope))]. "
                    + "Error message:  FunctionUrlConfig exists for this Lambda function")
        }
        let config = FunctionURLConfig(authType: authType, cors: cors, invokeMode: mode, creationTime: now, lastModifiedTime: now)
        urlConfigs[alias] = config
        return config
    }

    /// Changes what is given of a URL configuration (`UpdateFunctionUrlConfig`).
    public mutating func updateURLConfig(
        alias: AliasName?, authType: FunctionURLConfig.AuthType?, cors: FunctionURLConfig.Cors?, invokeMode: String?,
        scope: AccountScope, at now: Timestamp
    ) throws(LambdaError) -> FunctionURLConfig {
        try requireURLTarget(alias, scope: scope)
        guard var config = urlConfigs[alias] else { throw .resourceNotFound("The resource you requested does not exist.") }
        if let authType { config.authType = authType }
        if let cors { config.cors = try cors.validated() }
        if let invokeMode { config.invokeMode = try FunctionURLConfig.invokeMode(validating: invokeMode) }
        config.lastModifiedTime = now
        urlConfigs[alias] = config
        return config
    }

    /// Deletes a URL configuration (`DeleteFunctionUrlConfig`): 404 if there is none.
    public mutating func deleteURLConfig(alias: AliasName?, scope: AccountScope) throws(LambdaError) {
        try requireURLTarget(alias, scope: scope)
        guard urlConfigs.removeValue(forKey: alias) != nil else {
            throw .resourceNotFound("The resource you requested does not exist.")
        }
    }

    /// The URL configuration, 404 if there is none.
    public func urlConfig(alias: AliasName?, scope: AccountScope) throws(LambdaError) -> FunctionURLConfig {
        try requireURLTarget(alias, scope: scope)
        guard let config = urlConfigs[alias] else { throw .resourceNotFound("The resource you requested does not exist.") }
        return config
    }

    /// The ARN a URL configuration answers with: the alias's, or the unqualified function's.
    public func urlARN(_ alias: AliasName?, scope: AccountScope) -> String {
        alias.map { scope.functionARN(name, qualifier: $0) } ?? scope.functionARN(name)
    }

    private func requireURLTarget(_ alias: AliasName?, scope: AccountScope) throws(LambdaError) {
        if let alias, aliases[alias] == nil {
            throw .functionNotFound(scope.functionARN(name, qualifier: alias))
        }
    }
}
