// Request bodies of the Lambda REST API. Member names are AWS's wire names (botocore's shapes), so they
// are spelt as on the wire rather than in Swift style.

struct CreateFunctionBody: Decodable {
    var FunctionName: String?
    var Runtime: String?
    var Role: String?
    var Handler: String?
    var Code: CodeBody?
    var Description: String?
    var Timeout: Int?
    var MemorySize: Int?
    var Publish: Bool?
    var Environment: EnvironmentBody?
    var Architectures: [String]?
    var PackageType: String?
    var Tags: [String: String]?
    var EphemeralStorage: EphemeralStorageBody?
    var Layers: [String]?
}

struct CodeBody: Decodable {
    var ZipFile: String?
    var S3Bucket: String?
    var S3Key: String?
    var S3ObjectVersion: String?
    var ImageUri: String?
}

struct EnvironmentBody: Decodable {
    var Variables: [String: String]?
}

struct EphemeralStorageBody: Decodable {
    var Size: Int?
}

struct UpdateFunctionCodeBody: Decodable {
    var ZipFile: String?
    var S3Bucket: String?
    var S3Key: String?
    var S3ObjectVersion: String?
    var ImageUri: String?
    var Publish: Bool?
    var DryRun: Bool?
    var RevisionId: String?
    var Architectures: [String]?
}

struct UpdateFunctionConfigurationBody: Decodable {
    var Runtime: String?
    var Role: String?
    var Handler: String?
    var Description: String?
    var Timeout: Int?
    var MemorySize: Int?
    var Environment: EnvironmentBody?
    var EphemeralStorage: EphemeralStorageBody?
    var RevisionId: String?
    var Layers: [String]?
}

struct PublishVersionBody: Decodable {
    var CodeSha256: String?
    var Description: String?
    var RevisionId: String?
}

struct CreateAliasBody: Decodable {
    var Name: String?
    var FunctionVersion: String?
    var Description: String?
    var RoutingConfig: RoutingConfigBody?
}

struct UpdateAliasBody: Decodable {
    var FunctionVersion: String?
    var Description: String?
    var RoutingConfig: RoutingConfigBody?
    var RevisionId: String?
}

struct RoutingConfigBody: Decodable {
    var AdditionalVersionWeights: [String: Double]?
}

struct PutFunctionConcurrencyBody: Decodable {
    var ReservedConcurrentExecutions: Int?
}
