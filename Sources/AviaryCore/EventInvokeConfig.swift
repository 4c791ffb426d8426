/// How Lambda handles asynchronous (`Event`) invocations of one version or alias
/// (`PutFunctionEventInvokeConfig`): how often a failed event is retried, how old an event may get
/// before it is dropped, and which function hears of successes and failures.
public struct EventInvokeConfig: Sendable, Hashable, Codable {
    public static let retryRange = 0...2
    public static let ageRange = 60...21_600
    /// Lambda's defaults when nothing is configured.
    public static let defaultRetries = 2
    public static let defaultMaximumAge = 21_600

    public var maximumRetryAttempts: Int?
    public var maximumEventAgeInSeconds: Int?
    /// Destination ARNs: Lambda functions of this account and region.
    public var onSuccess: String?
    public var onFailure: String?
    public var lastModified: Timestamp

    public init(
        maximumRetryAttempts: Int?, maximumEventAgeInSeconds: Int?, onSuccess: String?, onFailure: String?,
        lastModified: Timestamp
    ) {
        self.maximumRetryAttempts = maximumRetryAttempts
        self.maximumEventAgeInSeconds = maximumEventAgeInSeconds
        self.onSuccess = onSuccess
        self.onFailure = onFailure
        self.lastModified = lastModified
    }

    public var retries: Int { maximumRetryAttempts ?? Self.defaultRetries }
    public var maximumAgeSeconds: Int { maximumEventAgeInSeconds ?? Self.defaultMaximumAge }

    /// What a Put or Update gives; `nil` members are not given.
    public struct Change: Sendable, Hashable {
        public var maximumRetryAttempts: Int?
        public var maximumEventAgeInSeconds: Int?
        /// `.some("")` clears a destination.
        public var onSuccess: String?
        public var onFailure: String?

        public init(maximumRetryAttempts: Int?, maximumEventAgeInSeconds: Int?, onSuccess: String?, onFailure: String?) {
            self.maximumRetryAttempts = maximumRetryAttempts
            self.maximumEventAgeInSeconds = maximumEventAgeInSeconds
            self.onSuccess = onSuccess
            self.onFailure = onFailure
        }

        func validated(scope: AccountScope) throws(LambdaError) -> Change {
            if let retries = maximumRetryAttempts, !EventInvokeConfig.retryRange.contains(retries) {
                throw .validation(
                    value: "\(retries)", field: "maximumRetryAttempts", constraint: "Member must have value between 0 and 2")
            }
            if let age = maximumEventAgeInSeconds, !EventInvokeConfig.ageRange.contains(age) {
                throw .validation(
                    value: "\(age)", field: "maximumEventAgeInSeconds",
                    constraint: "Member must have value between 60 and 21600")
            }
            for destination in [onSuccess, onFailure].compactMap({ $0 }) where !destination.isEmpty {
                try EventInvokeConfig.checkDestination(destination, scope: scope)
            }
            return self
        }
    }

    /// Aviary delivers destination records to Lambda functions of its own account and region only.
    static func checkDestination(_ arn: String, scope: AccountScope) throws(LambdaError) {
        let prefix = "arn:aws:lambda:\(scope.region):\(scope.accountID):function:"
        guard arn.hasPrefix(prefix), (try? FunctionIdentifier(parsing: arn, scope: scope)) != nil else {
            throw .invalidParameterValue(
                "The destination ARN \(arn) is invalid: Aviary delivers to Lambda functions of account "
                    + "\(scope.accountID) in \(scope.region) (SQS, SNS and EventBridge destinations are not supported).")
        }
    }
}

extension LambdaFunction {
    /// Which configuration answers for `qualifier`: unqualified means `$LATEST`.
    public static func eventInvokeKey(_ qualifier: Qualifier?) -> Qualifier {
        qualifier ?? .version(.latest)
    }

    /// `PutFunctionEventInvokeConfig` (`replacing`: what is not given takes the default) and
    /// `UpdateFunctionEventInvokeConfig` (what is not given is kept; an update needs a configuration).
    public mutating func putEventInvokeConfig(
        _ qualifier: Qualifier?, _ change: EventInvokeConfig.Change, replacing: Bool, scope: AccountScope, at now: Timestamp
    ) throws(LambdaError) -> EventInvokeConfig {
        let key = Self.eventInvokeKey(qualifier)
        try requireEventInvokeTarget(key, scope: scope)
        let change = try change.validated(scope: scope)
        for destination in [change.onSuccess, change.onFailure].compactMap({ $0 }) where !destination.isEmpty {
            if (try? FunctionIdentifier(parsing: destination, scope: scope))?.name == name {
                throw .invalidParameterValue("You can't specify the function as a destination for itself.")
            }
        }
        var config: EventInvokeConfig
        if replacing {
            config = EventInvokeConfig(maximumRetryAttempts: nil, maximumEventAgeInSeconds: nil, onSuccess: nil, onFailure: nil, lastModified: now)
        } else {
            guard let current = eventInvokeConfigs[key] else { throw noEventInvokeConfig(key, scope: scope) }
            config = current
        }
        if let value = change.maximumRetryAttempts { config.maximumRetryAttempts = value }
        if let value = change.maximumEventAgeInSeconds { config.maximumEventAgeInSeconds = value }
        if let value = change.onSuccess { config.onSuccess = value.isEmpty ? nil : value }
        if let value = change.onFailure { config.onFailure = value.isEmpty ? nil : value }
        config.lastModified = now
        eventInvokeConfigs[key] = config
        return config
    }

    public func eventInvokeConfig(_ qualifier: Qualifier?, scope: AccountScope) throws(LambdaError) -> EventInvokeConfig {
        let key = Self.eventInvokeKey(qualifier)
        try requireEventInvokeTarget(key, scope: scope)
        guard let config = eventInvokeConfigs[key] else { throw noEventInvokeConfig(key, scope: scope) }
        return config
    }

    public mutating func deleteEventInvokeConfig(_ qualifier: Qualifier?, scope: AccountScope) throws(LambdaError) {
        let key = Self.eventInvokeKey(qualifier)
        try requireEventInvokeTarget(key, scope: scope)
        guard eventInvokeConfigs.removeValue(forKey: key) != nil else { throw noEventInvokeConfig(key, scope: scope) }
    }

    private func noEventInvokeConfig(_ key: Qualifier, scope: AccountScope) -> LambdaError {
        .resourceNotFound("The function \(scope.functionARN(name, qualifier: key)) doesn't have an EventInvokeConfig")
    }

    private func requireEventInvokeTarget(_ key: Qualifier, scope: AccountScope) throws(LambdaError) {
        switch key {
        case .version(let selector):
            guard configuration(of: selector) != nil else { throw .functionNotFound(scope.functionARN(name, qualifier: selector)) }
        case .alias(let alias):
            guard aliases[alias] != nil else { throw .functionNotFound(scope.functionARN(name, qualifier: alias)) }
        }
    }
}
