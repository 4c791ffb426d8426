import AviaryCore
@testable import AviaryTemplate
import Foundation
import Testing

/// Every refusal names the resource (and the property) so that the author can find it in a long template.
@Suite struct TemplateErrorTests {
    @Test func aFunctionWithoutCodeIsRefused() throws {
        #expect(
            try templateError(ordersTemplate(base: "Runtime: python3.13\nHandler: app.handler"))
                == "OrdersFunction: CodeUri or InlineCode is missing: Aviary needs the function's code, as a folder or a .zip relative to the template, or inline")
    }

    @Test func codeInS3IsRefused() throws {
        #expect(
            try templateError(ordersTemplate(base: "Runtime: python3.13\nHandler: app.handler\nCodeUri: s3://bucket/orders.zip"))
                == "OrdersFunction: CodeUri 's3://bucket/orders.zip' is in S3; Aviary needs local code: a folder or a .zip relative to the template")
        #expect(
            try templateError(ordersTemplate(base: "Runtime: python3.13\nHandler: app.handler\nCodeUri: {Bucket: b, Key: k.zip}"))
                == "OrdersFunction: CodeUri {Bucket: 'b', Key: 'k.zip'} is in S3; Aviary needs local code: a folder or a .zip relative to the template")
    }

    @Test func codeThatIsNotThereOrNotAZipIsRefused() throws {
        let missing = try #require(try templateError(ordersTemplate(base: "Runtime: python3.13\nHandler: app.handler\nCodeUri: nowhere/")))
        #expect(missing.hasPrefix("OrdersFunction: CodeUri 'nowhere/' does not exist (looked for /"))
        #expect(
            try templateError(
                ordersTemplate(base: "Runtime: python3.13\nHandler: app.handler\nCodeUri: src/app.py"))
                == "OrdersFunction: CodeUri 'src/app.py' is a file but not a .zip; give a folder or a .zip")
        #expect(
            try templateError(ordersTemplate("InlineCode: print(1)"))
                == "OrdersFunction: CodeUri and InlineCode are both set; keep one")
    }

    @Test func anUnknownRuntimeIsRefused() throws {
        #expect(
            try templateError(ordersTemplate(base: "Runtime: cobol9\nHandler: app.handler\nCodeUri: src"))
                == "OrdersFunction: Runtime 'cobol9' is not a runtime Aviary knows (python3.*, nodejs*, provided*)")
        #expect(
            try templateError(ordersTemplate(base: "Handler: app.handler\nCodeUri: src"))
                == "OrdersFunction: Runtime is missing (such as python3.13, nodejs22.x or provided.al2023)")
    }

    @Test func aMissingHandlerIsRefused() throws {
        #expect(
            try templateError(ordersTemplate(base: "Runtime: python3.13\nCodeUri: src"))
                == "OrdersFunction: Handler is missing (such as app.lambda_handler)")
    }

    @Test func inlineCodeNeedsAnInterpretedRuntime() throws {
        #expect(
            try templateError(ordersTemplate(base: "Runtime: provided.al2023\nHandler: bootstrap\nInlineCode: echo"))
                == "OrdersFunction: InlineCode needs a python3.* or nodejs* runtime; provided.al2023 runs a bootstrap, so give CodeUri")
    }

    @Test func containerImagesAreRefused() throws {
        #expect(
            try templateError(ordersTemplate(base: "PackageType: Image\nImageUri: orders:latest"))
                == "OrdersFunction: PackageType Image is not supported: Aviary runs zip packages (CodeUri or InlineCode), not container images")
    }

    @Test func settingsOutsideLambdasLimitsAreRefused() throws {
        #expect(try templateError(ordersTemplate("Timeout: 901")) == "OrdersFunction: Timeout 901 is outside 1…900 seconds")
        #expect(try templateError(ordersTemplate("Timeout: 2.5")) == "OrdersFunction: Timeout '2.5' is not a whole number of seconds")
        #expect(try templateError(ordersTemplate("MemorySize: 64")) == "OrdersFunction: MemorySize 64 is outside 128…10240 MB")
        #expect(
            try templateError(ordersTemplate("Architectures: [sparc]"))
                == "OrdersFunction: 1 validation error detected: Value '[sparc]' at 'architectures' failed to satisfy constraint: "
                + "Member must satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64]]")
        #expect(
            try templateError(ordersTemplate("Environment:\n  Variables:\n    LIST: [a, b]"))
                == "OrdersFunction Environment.Variables.LIST: must be text, not a list")
    }

    @Test func anInvalidFunctionNameNamesTheResource() throws {
        #expect(
            try templateError(ordersTemplate("FunctionName: orders service"))
                == "OrdersFunction: FunctionName 'orders service' is not a valid function name (1–64 letters, digits, '-' or '_')")
        let long = String(repeating: "Orders", count: 11) + "Function"
        let template = ordersTemplate().replacingOccurrences(of: "OrdersFunction:", with: "\(long):")
        #expect(
            try templateError(template)
                == "\(long): the logical id is the function name unless FunctionName is set, and '\(long)' is not a valid one "
                + "(1–64 letters, digits, '-' or '_'); set FunctionName")
    }

    @Test func twoFunctionsWithOneNameAreRefused() throws {
        let template = ordersTemplate(
            "FunctionName: orders",
            resources: """
                UsersFunction:
                  Type: AWS::Serverless::Function
                  Properties: {FunctionName: orders, Runtime: python3.13, Handler: app.handler, CodeUri: src}
                """)
        #expect(try templateError(template) == "OrdersFunction and UsersFunction are both named 'orders'; function names must be unique")
    }

    @Test func aTemplateWithoutFunctionsIsRefused() throws {
        #expect(
            try templateError("Resources:\n  Table:\n    Type: AWS::DynamoDB::Table\n")
                == "the template has no AWS::Serverless::Function to deploy")
        #expect(
            try templateError(
                ordersTemplate(top: "Conditions:\n  Never: !Equals [a, b]")
                    .replacingOccurrences(of: "Type: AWS::Serverless::Function", with: "Type: AWS::Serverless::Function\n    Condition: Never"))
                == "no function is deployed: every AWS::Serverless::Function has a false condition (OrdersFunction (Never))")
    }

    @Test func unreadableYAMLSaysWhere() throws {
        let message = try #require(try templateError("Resources:\n  Orders:\n    Type: [unclosed\n"))
        #expect(message.hasPrefix("the template is not valid YAML: line 4, column 1: "), "\(message)")
        #expect(
            try templateError("Resources:\n  A: 1\n  A: 2\n")
                == "the template is not valid YAML: line 2, column 3: 'A' appears more than once in the same mapping")
        #expect(try templateError("") == "the template is empty")
        #expect(try templateError("- a list") == "a template is a mapping with a Resources section")
    }

    @Test func aliasesThatExpandWithoutEndAreRefused() throws {
        var yaml = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...7 {
            yaml += "a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ") + "]\n"
        }
        #expect(try templateError(yaml) == "the template holds more than 1000000 values once its YAML aliases are expanded")
    }

    @Test func aDeploymentPreferenceNeedsAnAlias() throws {
        #expect(
            try templateError(ordersTemplate("DeploymentPreference:\n  Type: Canary10Percent5Minutes"))
                == "OrdersFunction: DeploymentPreference needs AutoPublishAlias: the alias is what traffic shifts on")
    }

    @Test func aBadDeploymentTypeIsRefused() throws {
        #expect(
            try templateError(ordersTemplate("AutoPublishAlias: live\nDeploymentPreference:\n  Type: Canary99Percent"))
                == "OrdersFunction DeploymentPreference.Type: unknown strategy Canary99Percent: use a CodeDeploy preset "
                + "(Canary10Percent5Minutes, Linear10PercentEvery1Minute, AllAtOnce, …) or canary:10%:5m, linear:10%:1m, "
                + "steps:1%@2m,10%@5m, all-at-once")
        #expect(
            try templateError(ordersTemplate("AutoPublishAlias: live\nDeploymentPreference:\n  Enabled: true"))
                == "OrdersFunction DeploymentPreference: Type is missing (such as Canary10Percent5Minutes, Linear10PercentEvery1Minute or AllAtOnce)")
        #expect(
            try templateError(ordersTemplate("AutoPublishAlias: live\nDeploymentPreference:\n  Type: AllAtOnce\n  Enabled: maybe"))
                == "OrdersFunction DeploymentPreference.Enabled: must be true or false, not 'maybe'")
        #expect(
            try templateError(ordersTemplate("AutoPublishAlias: '42'"))
                == "OrdersFunction: AutoPublishAlias '42' is not a valid alias name (1–128 letters, digits, '-' or '_', not only digits)")
    }

    @Test func aHookMustBeAFunctionOfTheTemplate() throws {
        #expect(
            try templateError(ordersTemplate("AutoPublishAlias: live\nDeploymentPreference:\n  Type: AllAtOnce\n  Hooks:\n    PreTraffic: CodeDeployHook_elsewhere"))
                == "OrdersFunction DeploymentPreference.Hooks.PreTraffic: 'CodeDeployHook_elsewhere' is not a function of this template; "
                + "a hook is !Ref to another AWS::Serverless::Function here")
        #expect(
            try templateError(ordersTemplate("AutoPublishAlias: live\nDeploymentPreference:\n  Type: AllAtOnce\n  Hooks:\n    PostTraffic: !Ref OrdersFunction"))
                == "OrdersFunction DeploymentPreference.Hooks.PostTraffic: a function cannot be its own hook")
    }

    @Test func aDisabledPreferenceKeepsItsHooksAndMovesAtOnce() throws {
        let spec = try parseTemplate(
            ordersTemplate(
                "AutoPublishAlias: live\nDeploymentPreference:\n  Enabled: false\n  Hooks:\n    PreTraffic: !GetAtt CheckFunction.Arn",
                resources: """
                    CheckFunction:
                      Type: AWS::Serverless::Function
                      Properties: {Runtime: python3.13, Handler: index.handler, InlineCode: "def handler(e, c): pass"}
                    """))
        let deployment = try #require(spec.function("OrdersFunction")?.deployment)
        #expect(!deployment.enabled)
        #expect(deployment.strategy == .allAtOnce)
        #expect(deployment.preTrafficHook?.rawValue == "CheckFunction", "an ARN of a template function names it too")
    }

    @Test func theApplicationNameMustFitARoleName() throws {
        let folder = try TemplateFolder()
        defer { folder.remove() }
        #expect(throws: TemplateError("the application name 'my app' must be 1–64 letters, digits, '-' or '_'")) {
            try ApplicationTemplate.parse(ordersTemplate(), directory: folder.url, applicationName: "my app")
        }
        #expect(throws: TemplateError("the account '42' must be 12 digits")) {
            try ApplicationTemplate.parse(ordersTemplate(), directory: folder.url, applicationName: "shop", account: "42")
        }
    }

    @Test func aTemplateThatCannotBeReadSaysWhich() throws {
        let url = URL(fileURLWithPath: "/nonexistent/template.yaml")
        #expect {
            try ApplicationTemplate.load(url, applicationName: "shop")
        } throws: { error in
            (error as? TemplateError)?.message.hasPrefix("cannot read the template /nonexistent/template.yaml") == true
        }
    }

    @Test func aRoleThatIsNotAnARNBecomesThePlaceholder() throws {
        let spec = try parseTemplate(ordersTemplate("Role: !GetAtt OrdersRole.Arn", resources: "OrdersRole:\n  Type: AWS::IAM::Role"))
        #expect(spec.function("OrdersFunction")?.settings.role == "arn:aws:iam::123456789012:role/aviary-shop")
        #expect(
            spec.warnings.contains(
                "OrdersFunction Role: 'OrdersRole.Arn' is not an IAM role ARN; Aviary enforces no IAM and records arn:aws:iam::123456789012:role/aviary-shop"))
        let given = try parseTemplate(ordersTemplate("Role: !Sub arn:aws:iam::${AWS::AccountId}:role/orders"))
        #expect(given.function("OrdersFunction")?.settings.role == "arn:aws:iam::123456789012:role/orders")
    }
}
