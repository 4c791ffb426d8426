@testable import AviaryCore
import Testing

@Suite struct FunctionSettingsTests {
    let changes = TestChanges()

    func configuration(_ settings: FunctionSettings) throws -> FunctionConfiguration {
        try settings.newConfiguration(code: codeA, at: changes.now, revisionId: "r")
    }

    var minimal: FunctionSettings { FunctionSettings(runtime: "python3.12", handler: "index.handler", role: roleA) }

    @Test func defaultsAreAWSs() throws {
        let config = try configuration(minimal)
        #expect(config.timeout == 3)
        #expect(config.memorySize == 128)
        #expect(config.description == "")
        #expect(config.architecture == .x86_64)
        #expect(config.ephemeralStorageSize == 512)
        #expect(config.environment.isEmpty)
    }

    @Test(arguments: Runtime.supported + ["nodejs6.10", "python3.6", "provided"])
    func everyPythonNodeAndProvidedRuntimeIsAccepted(runtime: String) throws {
        var settings = minimal
        settings.runtime = runtime
        #expect(try configuration(settings).runtime.rawValue == runtime)
    }

    @Test(arguments: ["ruby9", "java21", "python2.7", "go1.x", "dotnet8", "python3"])
    func otherRuntimesGetAWSsEnumError(runtime: String) {
        var settings = minimal
        settings.runtime = runtime
        expectLambdaError(.invalidParameterValue) { _ = try configuration(settings) }
        let error = lambdaError { _ = try configuration(settings) }
        #expect(error?.message.hasPrefix("Value \(runtime) at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: [nodejs, ") == true)
        #expect(error?.message.hasSuffix("] or be a valid ARN") == true)
    }

    @Test func runtimeFamilies() {
        #expect(Runtime(trusted: "python3.12").family == .python)
        #expect(Runtime(trusted: "nodejs6.10").family == .node)
        #expect(Runtime(trusted: "provided.al2023").family == .provided)
    }

    @Test func runtimeAndHandlerAreMandatoryForZipFunctions() {
        var settings = minimal
        settings.handler = nil
        expectLambdaError(
            .invalidParameterValue,
            "Runtime and Handler are mandatory parameters for functions created with deployment packages."
        ) { _ = try configuration(settings) }
    }

    @Test func theRoleIsRequiredAndMustBeAnIAMRoleARN() {
        var settings = minimal
        settings.role = nil
        expectLambdaError(.validation, "1 validation error detected: Value 'null' at 'role' failed to satisfy constraint: Member must not be null") {
            _ = try configuration(settings)
        }
        settings.role = "r1"
        expectLambdaError(
            .validation,
            #"1 validation error detected: Value 'r1' at 'role' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+"#
        ) { _ = try configuration(settings) }
        for good in ["arn:aws:iam::123456789012:role/service-role/x.y@z", "arn:aws-cn:iam::123456789012:role/r"] {
            settings.role = good
            #expect((try? configuration(settings)) != nil)
        }
        for bad in ["arn:aws:iam::12345:role/r", "arn:aws:iam::123456789012:user/r", "arn:aws:iam::123456789012:role/"] {
            settings.role = bad
            #expect((try? configuration(settings)) == nil, "\(bad)")
        }
    }

    @Test func timeoutMemoryAndStorageHaveAWSsRanges() {
        var settings = minimal
        settings.timeout = 901
        expectLambdaError(.validation, "1 validation error detected: Value '901' at 'timeout' failed to satisfy constraint: Member must have value less than or equal to 900") {
            _ = try configuration(settings)
        }
        settings.timeout = 0
        expectLambdaError(.validation, "1 validation error detected: Value '0' at 'timeout' failed to satisfy constraint: Member must have value greater than or equal to 1") {
            _ = try configuration(settings)
        }
        settings.timeout = 900
        settings.memorySize = 20000
        expectLambdaError(.validation, "1 validation error detected: Value '20000' at 'memorySize' failed to satisfy constraint: Member must have value less than or equal to 10240") {
            _ = try configuration(settings)
        }
        settings.memorySize = 127
        expectLambdaError(.validation) { _ = try configuration(settings) }
        settings.memorySize = 10240
        settings.ephemeralStorageSize = 10241
        expectLambdaError(.validation) { _ = try configuration(settings) }
        settings.ephemeralStorageSize = 10240
        #expect((try? configuration(settings)) != nil)
    }

    @Test func handlerAndDescriptionConstraints() {
        var settings = minimal
        settings.handler = "index handler"
        expectLambdaError(.validation) { _ = try configuration(settings) }
        settings.handler = String(repeating: "h", count: 129)
        expectLambdaError(.validation) { _ = try configuration(settings) }
        settings.handler = "index.handler"
        settings.description = String(repeating: "d", count: 257)
        expectLambdaError(.validation) { _ = try configuration(settings) }
        settings.description = String(repeating: "d", count: 256)
        #expect((try? configuration(settings)) != nil)
    }

    @Test func architecturesTakeExactlyOneKnownValue() throws {
        var settings = minimal
        settings.architectures = ["arm64"]
        #expect(try configuration(settings).architecture == .arm64)
        settings.architectures = ["sparc"]
        expectLambdaError(.validation) { _ = try configuration(settings) }
        settings.architectures = ["x86_64", "arm64"]
        expectLambdaError(.validation) { _ = try configuration(settings) }
        settings.architectures = []
        expectLambdaError(.validation) { _ = try configuration(settings) }
    }

    @Test func environmentKeysFollowThePatternAndAvoidReservedNames() throws {
        var settings = minimal
        settings.environment = ["STAGE": "prod", "db_url": "x"]
        #expect(try configuration(settings).environment == ["STAGE": "prod", "db_url": "x"])
        settings.environment = ["1BAD": "x"]
        expectLambdaError(.validation) { _ = try configuration(settings) }
        settings.environment = ["A": "single letter keys do not match the pattern"]
        expectLambdaError(.validation) { _ = try configuration(settings) }
        settings.environment = ["AWS_REGION": "eu-west-1", "OK": "1", "LAMBDA_TASK_ROOT": "x"]
        expectLambdaError(
            .invalidParameterValue,
            "Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: AWS_REGION, LAMBDA_TASK_ROOT"
        ) { _ = try configuration(settings) }
    }

    @Test func environmentIsLimitedTo4KBOfCompactJSON() throws {
        var settings = minimal
        // {"KEY":"<v>"} is 10 bytes of syntax around the value.
        settings.environment = ["KEY": String(repeating: "v", count: 4096 - 10)]
        #expect((try? configuration(settings)) != nil)
        settings.environment = ["KEY": String(repeating: "v", count: 4096 - 9)]
        expectLambdaError(.invalidParameterValue) { _ = try configuration(settings) }
        let error = lambdaError { _ = try configuration(settings) }
        #expect(error?.message.hasPrefix("Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: {\"KEY\":\"vvv") == true)
    }

    @Test func updatesApplyOnlyPresentFieldsAndValidateThem() throws {
        var config = try configuration(minimal)
        try FunctionSettings(description: "new", timeout: 30).apply(to: &config)
        #expect(config.description == "new")
        #expect(config.timeout == 30)
        #expect(config.handler == "index.handler")
        let before = config
        expectLambdaError(.validation) { try FunctionSettings(description: "x", memorySize: 99999).apply(to: &config) }
        #expect(config == before)
    }
}
