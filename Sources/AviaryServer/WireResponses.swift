import AviaryCore

// Response shapes of the Lambda REST API, with AWS's wire member names (see WireRequests.swift).

struct FunctionConfigurationWire: Encodable {
    var FunctionName: String
    var FunctionArn: String
    var Runtime: String
    var Role: String
    var Handler: String
    var CodeSize: Int
    var Description: String
    var Timeout: Int
    var MemorySize: Int
    var LastModified: String
    var CodeSha256: String
    var Version: String
    var Environment: EnvironmentWire?
    var TracingConfig = TracingConfigWire()
    var RevisionId: String
    var State: String?
    var LastUpdateStatus: String?
    var PackageType = "Zip"
    var Architectures: [String]
    var EphemeralStorage: EphemeralStorageWire
    var SnapStart = SnapStartWire()
    var LoggingConfig: LoggingConfigWire

    struct EnvironmentWire: Encodable { var Variables: [String: String] }
    struct TracingConfigWire: Encodable { var Mode = "PassThrough" }
    struct EphemeralStorageWire: Encodable { var Size: Int }
    struct SnapStartWire: Encodable {
        var ApplyOn = "None"
        var OptimizationStatus = "Off"
    }
    struct LoggingConfigWire: Encodable {
        var LogFormat = "Text"
        var LogGroup: String
    }

    /// - Parameters:
    ///   - arn: the FunctionArn to show, which depends on how the function was addressed.
    ///   - listing: ListFunctions omits the state fields.
    init(
        name: FunctionName, version: VersionSelector, configuration: FunctionConfiguration, arn: String,
        scope: AccountScope, listing: Bool = false
    ) {
        FunctionName = name.rawValue
        FunctionArn = arn
        Runtime = configuration.runtime.rawValue
        Role = configuration.role
        Handler = configuration.handler
        CodeSize = configuration.code.size
        Description = configuration.description
        Timeout = configuration.timeout
        MemorySize = configuration.memorySize
        LastModified = configuration.lastModified.description
        CodeSha256 = configuration.code.sha256
        Version = version.description
        Environment = configuration.environment.isEmpty ? nil : EnvironmentWire(Variables: configuration.environment)
        RevisionId = configuration.revisionId
        State = listing ? nil : "Active"
        LastUpdateStatus = listing ? nil : "Successful"
        Architectures = [configuration.architecture.rawValue]
        EphemeralStorage = EphemeralStorageWire(Size: configuration.ephemeralStorageSize)
        LoggingConfig = LoggingConfigWire(LogGroup: scope.logGroup(name))
    }
}

struct AliasConfigurationWire: Encodable {
    var AliasArn: String
    var Name: String
    var FunctionVersion: String
    var Description: String
    var RoutingConfig: RoutingConfigWire?
    var RevisionId: String

    struct RoutingConfigWire: Encodable { var AdditionalVersionWeights: [String: Double] }

    init(_ alias: Alias, function: FunctionName, scope: AccountScope) {
        AliasArn = scope.functionARN(function, qualifier: alias.name)
        Name = alias.name.rawValue
        FunctionVersion = alias.functionVersion.description
        Description = alias.description
        RoutingConfig = alias.routing.map {
            RoutingConfigWire(AdditionalVersionWeights: [$0.additionalVersion.description: $0.weight.value])
        }
        RevisionId = alias.revisionId
    }
}

struct GetFunctionWire: Encodable {
    var Configuration: FunctionConfigurationWire
    var Code: CodeLocationWire
    var Tags: [String: String]?
    var Concurrency: ConcurrencyWire?

    struct CodeLocationWire: Encodable {
        var RepositoryType = "S3"
        var Location: String
    }
}

struct ListFunctionsWire: Encodable {
    var Functions: [FunctionConfigurationWire]
    var NextMarker: String?
}

struct ListVersionsWire: Encodable {
    var Versions: [FunctionConfigurationWire]
    var NextMarker: String?
}

struct ListAliasesWire: Encodable {
    var Aliases: [AliasConfigurationWire]
    var NextMarker: String?
}

struct AccountSettingsWire: Encodable {
    var AccountLimit: Limit
    var AccountUsage: Usage

    struct Limit: Encodable {
        var TotalCodeSize = 80_530_636_800
        var CodeSizeUnzipped = 262_144_000
        var CodeSizeZipped = 52_428_800
        var ConcurrentExecutions = Registry.accountConcurrency
        var UnreservedConcurrentExecutions: Int
    }

    struct Usage: Encodable {
        var TotalCodeSize: Int
        var FunctionCount: Int
    }
}

struct ConcurrencyWire: Encodable {
    var ReservedConcurrentExecutions: Int?
}
