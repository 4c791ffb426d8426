import AviaryCore
@testable import AviaryTemplate
import Foundation
import Testing

/// The `sam-app` fixture: hello world plus an orders function on a canary guarded by two alarms and a
/// pre-traffic hook, with Globals, Parameters, Conditions, Mappings, an API, a table and Outputs.
@Suite struct SamAppTemplateTests {
    static let folder = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("sam-app")
    static let template = folder.appendingPathComponent("template.yaml")
    static let role = "arn:aws:iam::123456789012:role/aviary-orders-app"
    static let functionARN = "arn:aws:lambda:us-east-1:123456789012:function:"

    static func code(_ path: String) -> CodeSource {
        .directory(URL(fileURLWithPath: folder.appendingPathComponent(path).path, isDirectory: true))
    }

    @Test func theDevStageReadsEveryFunctionWithGlobalsAndDefaults() throws {
        let spec = try ApplicationTemplate.load(Self.template, applicationName: "orders-app")
        #expect(spec.functions.map(\.logicalID) == ["HelloWorldFunction", "OrdersFunction", "PreTrafficHookFunction"])

        let hello = try #require(spec.function("HelloWorldFunction"))
        #expect(hello.name.rawValue == "HelloWorldFunction", "the logical id names a function without FunctionName")
        #expect(hello.code == Self.code("hello_world"))
        #expect(
            hello.settings
                == FunctionSettings(
                    runtime: "python3.13", handler: "app.lambda_handler", role: Self.role, description: "", timeout: 3,
                    memorySize: 128, environment: ["STAGE": "dev", "LOG_LEVEL": "INFO"], architectures: ["x86_64"],
                    ephemeralStorageSize: 512))
        #expect(hello.alias == nil)
        #expect(hello.deployment == nil)

        let orders = try #require(spec.function("OrdersFunction"))
        #expect(orders.name.rawValue == "orders-app-orders-dev")
        #expect(orders.code == Self.code("orders"))
        #expect(
            orders.settings
                == FunctionSettings(
                    runtime: "python3.13", handler: "app.handler", role: Self.role, description: "Orders API in us-east-1",
                    timeout: 10, memorySize: 128,
                    environment: [
                        "STAGE": "dev", "LOG_LEVEL": "DEBUG", "TABLE": "OrdersTable", "TABLE_ARN": "OrdersTable.Arn",
                        "HELLO_ARN": Self.functionARN + "HelloWorldFunction", "DEBUG_ONLY": "yes",
                    ],
                    architectures: ["x86_64"], ephemeralStorageSize: 512))
        #expect(orders.alias?.rawValue == "live")
        let deployment = try #require(orders.deployment)
        #expect(deployment.strategy == (try Strategy.parse("AllAtOnce")))
        #expect(deployment.rules.map(\.description) == ["errors>=2@1m:1/2,missing=notBreaching", "p99>=800ms@30s:2/3"])
        #expect(deployment.preTrafficHook?.rawValue == "CodeDeployHook_orders-app-preTraffic")
        #expect(deployment.postTrafficHook == nil)
        #expect(deployment.enabled)

        let hook = try #require(spec.function("PreTrafficHookFunction"))
        #expect(hook.name.rawValue == "CodeDeployHook_orders-app-preTraffic")
        #expect(hook.deployment == nil, "a disabled preference without an alias says nothing")
        #expect(hook.settings.environment?["NEW_VERSION"] == Self.functionARN + "orders-app-orders-dev")
    }

    @Test func theDevStageWarnsAboutEverythingItLeavesOut() throws {
        let spec = try ApplicationTemplate.load(Self.template, applicationName: "orders-app")
        #expect(
            spec.warnings == [
                "not deployed by Aviary: Api (AWS::Serverless::Api), OrdersTable (AWS::DynamoDB::Table)",
                "not deployed because their condition is false: ReportsFunction (IsProd)",
                "ignored: DeploymentPreference.Role (PreTrafficHookFunction), Events (HelloWorldFunction, OrdersFunction), "
                    + "Policies (OrdersFunction, PreTrafficHookFunction), "
                    + "Tracing (HelloWorldFunction, OrdersFunction, PreTrafficHookFunction)",
                "OrdersFunction Environment.Variables.TABLE: !Ref OrdersTable (AWS::DynamoDB::Table, not deployed by Aviary) "
                    + "evaluates to 'OrdersTable'",
                "OrdersFunction Environment.Variables.TABLE_ARN: !GetAtt OrdersTable.Arn (AWS::DynamoDB::Table, not deployed "
                    + "by Aviary) evaluates to 'OrdersTable.Arn'",
                "PreTrafficHookFunction Environment.Variables.NEW_VERSION: !Ref OrdersFunction.Version is known only once "
                    + "published; it evaluates to the function's unqualified ARN, whose $LATEST holds the new code",
            ])
    }

    @Test func overridingTheStageFlipsConditionsMappingsAndTheStrategy() throws {
        let spec = try ApplicationTemplate.load(
            Self.template, parameters: ["Stage": "prod", "ErrorThreshold": "4.5"], applicationName: "orders-app",
            region: "eu-west-1", account: "210987654321")
        #expect(spec.functions.map(\.logicalID) == ["HelloWorldFunction", "OrdersFunction", "PreTrafficHookFunction", "ReportsFunction"])
        let orders = try #require(spec.function("OrdersFunction"))
        #expect(orders.name.rawValue == "orders-app-orders-prod")
        #expect(orders.settings.memorySize == 512)
        #expect(orders.settings.description == "Orders API in eu-west-1")
        #expect(orders.settings.role == "arn:aws:iam::210987654321:role/aviary-orders-app")
        #expect(orders.settings.environment?["DEBUG_ONLY"] == nil, "AWS::NoValue removes the variable")
        #expect(orders.settings.environment?["HELLO_ARN"] == "arn:aws:lambda:eu-west-1:210987654321:function:HelloWorldFunction")
        #expect(orders.deployment?.strategy == (try Strategy.parse("Canary10Percent5Minutes")))
        #expect(orders.deployment?.rules.first?.description == "errors>=5@1m:1/2,missing=notBreaching", "> 4.5 errors is ≥ 5")

        let reports = try #require(spec.function("ReportsFunction"))
        #expect(reports.code == .inline(fileName: "index.py", source: "def handler(event, context):\n    return \"report\"\n"))
        #expect(!spec.warnings.contains { $0.hasPrefix("not deployed because") })
    }

    @Test func aParameterOutsideItsAllowedValuesIsRefused() throws {
        #expect(throws: TemplateError("Parameters.Stage: 'qa' is not one of the AllowedValues (dev, prod)")) {
            try ApplicationTemplate.load(Self.template, parameters: ["Stage": "qa"], applicationName: "orders-app")
        }
        #expect(throws: TemplateError("Parameters.ErrorThreshold: 'many' is not a number")) {
            try ApplicationTemplate.load(Self.template, parameters: ["ErrorThreshold": "many"], applicationName: "orders-app")
        }
    }

    @Test func theSameApplicationInJSONReadsTheSame() throws {
        let json = """
            {
              "AWSTemplateFormatVersion": "2010-09-09",
              "Transform": "AWS::Serverless-2016-10-31",
              "Parameters": {"Stage": {"Type": "String", "Default": "dev"}},
              "Globals": {"Function": {"Runtime": "nodejs22.x", "Timeout": 5, "Environment": {"Variables": {"STAGE": {"Ref": "Stage"}}}}},
              "Resources": {
                "OrdersFunction": {
                  "Type": "AWS::Serverless::Function",
                  "Properties": {
                    "FunctionName": {"Fn::Sub": "${AWS::StackName}-orders"},
                    "CodeUri": "src/",
                    "Handler": "index.handler",
                    "MemorySize": 256,
                    "Architectures": ["arm64"],
                    "Environment": {"Variables": {"QUEUE": {"Fn::GetAtt": ["OrdersQueue", "Arn"]}, "BUILD": {"Fn::Join": ["-", ["v", "1"]]}}},
                    "AutoPublishAlias": "live",
                    "DeploymentPreference": {
                      "Type": "Linear10PercentEvery1Minute",
                      "Alarms": [{"Ref": "Errors"}],
                      "Hooks": {"PostTraffic": {"Ref": "CheckFunction"}}
                    }
                  }
                },
                "CheckFunction": {
                  "Type": "AWS::Serverless::Function",
                  "Properties": {"InlineCode": "exports.handler = async () => 'ok';", "Handler": "index.handler"}
                },
                "OrdersQueue": {"Type": "AWS::SQS::Queue"},
                "Errors": {
                  "Type": "AWS::CloudWatch::Alarm",
                  "Properties": {
                    "Namespace": "AWS/Lambda", "MetricName": "Throttles", "Statistic": "Sum", "Period": 10,
                    "EvaluationPeriods": 1, "Threshold": 3, "ComparisonOperator": "GreaterThanOrEqualToThreshold",
                    "TreatMissingData": "breaching"
                  }
                }
              }
            }
            """
        let folder = try TemplateFolder()
        defer { folder.remove() }
        let spec = try ApplicationTemplate.parse(json, directory: folder.url, applicationName: "shop")
        let orders = try #require(spec.function("OrdersFunction"))
        #expect(orders.name.rawValue == "shop-orders")
        #expect(orders.code == .directory(folder.directory("src")))
        #expect(orders.settings.runtime == "nodejs22.x")
        #expect(orders.settings.timeout == 5)
        #expect(orders.settings.memorySize == 256)
        #expect(orders.settings.architectures == ["arm64"])
        #expect(orders.settings.environment == ["STAGE": "dev", "QUEUE": "OrdersQueue.Arn", "BUILD": "v-1"])
        #expect(orders.deployment?.strategy == (try Strategy.parse("Linear10PercentEvery1Minute")))
        #expect(orders.deployment?.rules.map(\.description) == ["throttles>=3@10s,missing=breaching"])
        #expect(orders.deployment?.postTrafficHook?.rawValue == "CheckFunction")
        let check = try #require(spec.function("CheckFunction"))
        #expect(check.code == .inline(fileName: "index.js", source: "exports.handler = async () => 'ok';"))
        #expect(spec.warnings.first == "not deployed by Aviary: OrdersQueue (AWS::SQS::Queue)", "a used alarm is not listed")
    }
}
