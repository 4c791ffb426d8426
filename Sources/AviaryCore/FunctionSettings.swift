import Foundation

/// Settings a client sends with CreateFunction or UpdateFunctionConfiguration; absent fields are nil.
///
/// `validate()` applies every rule of the Lambda model that botocore does not check client-side
/// (patterns, maxima, reserved environment keys, the 4 KB environment limit).
public struct FunctionSettings: Sendable, Hashable {
    public var runtime: String?
    public var handler: String?
    public var role: String?
    public var description: String?
    public var timeout: Int?
    public var memorySize: Int?
    public var environment: [String: String]?
    public var architectures: [String]?
    public var ephemeralStorageSize: Int?

    public static let defaultTimeout = 3
    public static let defaultMemorySize = 128
    public static let defaultEphemeralStorage = 512
    public static let timeoutRange = 1...900
    public static let memoryRange = 128...10240
    public static let ephemeralStorageRange = 512...10240
    public static let environmentLimitBytes = 4096

    /// Keys the platform sets itself; AWS refuses them in `Environment.Variables`.
    public static let reservedEnvironmentKeys: Set<String> = [
        "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
    ]

    public init(
        runtime: String? = nil, handler: String? = nil, role: String? = nil, description: String? = nil,
        timeout: Int? = nil, memorySize: Int? = nil, environment: [String: String]? = nil,
        architectures: [String]? = nil, ephemeralStorageSize: Int? = nil
    ) {
        self.runtime = runtime
        self.handler = handler
        self.role = role
        self.description = description
        self.timeout = timeout
        self.memorySize = memorySize
        self.environment = environment
        self.architectures = architectures
        self.ephemeralStorageSize = ephemeralStorageSize
    }

    /// Checks every field that is present. Field-level constraint failures come first, as on AWS.
    public func validate() throws(LambdaError) {
        if let role {
            guard Self.isRoleARN(role) else { throw .patternMismatch(value: role, field: "role", pattern: Patterns.role) }
        }
        if let handler {
            guard handler.count <= 128 else { throw .tooLong(value: handler, field: "handler", max: 128) }
            guard !handler.isEmpty, !handler.contains(where: \.isWhitespace) else {
                throw .patternMismatch(value: handler, field: "handler", pattern: Patterns.handler)
            }
        }
        if let description, description.count > 256 {
            throw .tooLong(value: description, field: "description", max: 256)
        }
        try Self.check(timeout, field: "timeout", in: Self.timeoutRange)
        try Self.check(memorySize, field: "memorySize", in: Self.memoryRange)
        try Self.check(ephemeralStorageSize, field: "ephemeralStorage.size", in: Self.ephemeralStorageRange)
        if let architectures { _ = try Self.architecture(from: architectures) }
        if let environment { try Self.validate(environment: environment) }
        if let runtime { _ = try Runtime(validating: runtime) }
    }

    /// Builds the configuration of a new function: Role, Runtime and Handler are required for zip packages.
    public func newConfiguration(code: CodeArtifact, at now: Timestamp, revisionId: String) throws(LambdaError)
        -> FunctionConfiguration
    {
        try validate()
        guard let role else {
            throw .validation(value: "null", field: "role", constraint: "Member must not be null")
        }
        guard let runtime, let handler else {
            throw .invalidParameterValue(
                "Runtime and Handler are mandatory parameters for functions created with deployment packages.")
        }
        return FunctionConfiguration(
            runtime: try Runtime(validating: runtime), handler: handler, role: role,
            description: description ?? "",
            timeout: timeout ?? Self.defaultTimeout, memorySize: memorySize ?? Self.defaultMemorySize,
            environment: environment ?? [:],
            architecture: try architectures.map(Self.architecture(from:)) ?? .x86_64,
            ephemeralStorageSize: ephemeralStorageSize ?? Self.defaultEphemeralStorage,
            code: code, lastModified: now, revisionId: revisionId)
    }

    /// Applies the present fields to an existing configuration (UpdateFunctionConfiguration).
    public func apply(to configuration: inout FunctionConfiguration) throws(LambdaError) {
        try validate()
        if let runtime { configuration.runtime = try Runtime(validating: runtime) }
        if let handler { configuration.handler = handler }
        if let role { configuration.role = role }
        if let description { configuration.description = description }
        if let timeout { configuration.timeout = timeout }
        if let memorySize { configuration.memorySize = memorySize }
        if let environment { configuration.environment = environment }
        if let architectures { configuration.architecture = try Self.architecture(from: architectures) }
        if let ephemeralStorageSize { configuration.ephemeralStorageSize = ephemeralStorageSize }
    }

    static func check(_ value: Int?, field: String, in range: ClosedRange<Int>) throws(LambdaError) {
        guard let value else { return }
        if value > range.upperBound { throw .tooLarge(value: value, field: field, max: range.upperBound) }
        if value < range.lowerBound { throw .tooSmall(value: value, field: field, min: range.lowerBound) }
    }

    static func architecture(from list: [String]) throws(LambdaError) -> Architecture {
        let rendered = "[\(list.joined(separator: ", "))]"
        guard list.count == 1 else {
            throw .validation(
                value: rendered, field: "architectures",
                constraint: list.isEmpty
                    ? "Member must have length greater than or equal to 1"
                    : "Member must have length less than or equal to 1")
        }
        guard let architecture = Architecture(rawValue: list[0]) else {
            throw .validation(
                value: rendered, field: "architectures",
                constraint: "Member must satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64]]")
        }
        return architecture
    }

    static func validate(environment: [String: String]) throws(LambdaError) {
        let keys = environment.keys.sorted()
        if let bad = keys.first(where: { !isEnvironmentVariableName($0) }) {
            throw .validation(
                value: "[\(bad)]", field: "environment.variables",
                constraint: "Map keys must satisfy constraint: [Member must satisfy regular expression pattern: "
                    + "\(Patterns.environmentVariableName)]")
        }
        let reserved = keys.filter(reservedEnvironmentKeys.contains)
        guard reserved.isEmpty else {
            throw .invalidParameterValue(
                "Lambda was unable to configure your environment variables because the environment variables you "
                    + "have provided contains reserved keys that are currently not supported for modification. "
                    + "Reserved keys used in this request: \(reserved.joined(separator: ", "))")
        }
        let measured = compactJSON(environment)
        guard measured.utf8.count <= environmentLimitBytes else {
            throw .invalidParameterValue(
                "Lambda was unable to configure your environment variables because the environment variables you "
                    + "have provided exceeded the 4KB limit. String measured: \(measured)")
        }
    }

    static func isEnvironmentVariableName(_ key: String) -> Bool {
        guard key.count >= 2, let first = key.first, first.isASCII, first.isLetter else { return false }
        return key.dropFirst().allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
    }

    static func isRoleARN(_ role: String) -> Bool {
        // arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+
        let parts = role.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "arn", parts[2] == "iam", parts[3].isEmpty,
            parts[1].isEmpty || (parts[1].hasPrefix("aws") && parts[1].allSatisfy { $0.isASCII && ($0.isLetter || $0 == "-") }),
            parts[4].count == 12, parts[4].allSatisfy(\.isASCIIDigit), parts[5].hasPrefix("role")
        else { return false }
        var rest = parts[5].dropFirst(4)
        if rest.first == "/" { rest = rest.dropFirst() }
        let allowed = Set("+=,.@-_/")
        return !rest.isEmpty && rest.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || allowed.contains($0)) }
    }

    /// The compact JSON AWS measures the environment by: `{"K":"V",...}`.
    static func compactJSON(_ variables: [String: String]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(variables), let text = String(data: data, encoding: .utf8) else {
            return "{}"
        }
        return text
    }
}
