import AviaryCore
@testable import AviaryTemplate
import Foundation
import Testing

/// CloudFormation's intrinsic functions, in short and long form, as they evaluate inside a property.
@Suite struct IntrinsicFunctionTests {
    /// The environment of `OrdersFunction` when its variables are `variables` (unindented YAML).
    func environment(_ variables: String, top: String = "", resources: String = "", parameters: [String: String] = [:]) throws -> [String: String] {
        let indented = variables.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n")
        let spec = try parseTemplate(
            ordersTemplate("Environment:\n  Variables:\n" + indented, resources: resources, top: top), parameters: parameters)
        return try #require(spec.function("OrdersFunction")?.settings.environment)
    }

    @Test func subReadsParametersPseudoParametersAttributesVariablesAndLiterals() throws {
        let variables = try environment(
            """
            PLAIN: !Sub "${Stage}-${AWS::Region}-${AWS::AccountId}-${AWS::StackName}-${AWS::Partition}-${AWS::URLSuffix}"
            SELF: !Sub "${OrdersFunction}|${OrdersFunction.Arn}"
            VARIABLES: !Sub ["${Greeting}, ${Stage}", {Greeting: !Join ["", [hel, lo]]}]
            LITERAL: !Sub "${!Stage} costs $5 {not a variable}"
            LONG: {"Fn::Sub": "${ Stage }"}
            """,
            top: "Parameters:\n  Stage: {Type: String, Default: beta}")
        #expect(variables["PLAIN"] == "beta-us-east-1-123456789012-shop-aws-amazonaws.com")
        #expect(variables["SELF"] == "OrdersFunction|arn:aws:lambda:us-east-1:123456789012:function:OrdersFunction")
        #expect(variables["VARIABLES"] == "hello, beta")
        #expect(variables["LITERAL"] == "${Stage} costs $5 {not a variable}")
        #expect(variables["LONG"] == "beta")
    }

    @Test func joinSelectSplitAndBase64() throws {
        let variables = try environment(
            """
            JOINED: !Join [",", !Ref Zones]
            SECOND: !Select [1, !Ref Zones]
            PIECE: !Select ["2", !Split ["/", "a/b/c"]]
            ENCODED: !Base64 hello
            LONG_JOIN: {"Fn::Join": ["-", [{"Ref": "AWS::Region"}, x]]}
            """,
            top: "Parameters:\n  Zones: {Type: CommaDelimitedList, Default: 'a, b ,c'}")
        #expect(variables["JOINED"] == "a,b,c", "list parameters are trimmed")
        #expect(variables["SECOND"] == "b")
        #expect(variables["PIECE"] == "c")
        #expect(variables["ENCODED"] == "aGVsbG8=")
        #expect(variables["LONG_JOIN"] == "us-east-1-x")
    }

    @Test func conditionsCombineAndChooseBranches() throws {
        let top = """
            Parameters:
              Stage: {Type: String, Default: dev}
              Region: {Type: String, Default: eu}
            Conditions:
              IsProd: !Equals [!Ref Stage, prod]
              IsEU: {"Fn::Equals": [{"Ref": "Region"}, eu]}
              IsProdEU: !And [!Condition IsProd, {Condition: IsEU}]
              IsEither: !Or [!Condition IsProd, !Condition IsEU]
              IsNeither: !Not [!Condition IsEither]
            """
        let variables = """
            V1: !If [IsProdEU, both, not-both]
            V2: !If [IsEither, either, none]
            V3: {"Fn::If": [IsNeither, neither, some]}
            V4: !If [IsProd, !Ref AWS::NoValue, kept]
            """
        let dev = try environment(variables, top: top)
        #expect(dev == ["V1": "not-both", "V2": "either", "V3": "some", "V4": "kept"])
        let prod = try environment(variables, top: top, parameters: ["Stage": "prod", "Region": "us"])
        #expect(prod == ["V1": "not-both", "V2": "either", "V3": "some"])
        let prodEU = try environment(variables, top: top, parameters: ["Stage": "prod"])
        #expect(prodEU == ["V1": "both", "V2": "either", "V3": "some"])
        let devUS = try environment(variables, top: top, parameters: ["Region": "us"])
        #expect(devUS == ["V1": "not-both", "V2": "none", "V3": "neither", "V4": "kept"])
    }

    @Test func onlyTheChosenBranchIsEvaluated() throws {
        let variables = try environment(
            "CHOSEN: !If [Never, !ImportValue other-stack-output, fine]",
            top: "Conditions:\n  Never: !Equals [a, b]")
        #expect(variables["CHOSEN"] == "fine")
    }

    @Test func mappingsAreLookedUpByEvaluatedKeys() throws {
        let variables = try environment(
            "SIZE: !FindInMap [Sizes, !Ref AWS::Region, Large]\nLONG: {\"Fn::FindInMap\": [Sizes, eu-west-1, Small]}",
            top: "Mappings:\n  Sizes:\n    us-east-1: {Large: '1024'}\n    eu-west-1: {Small: 128}")
        #expect(variables == ["SIZE": "1024", "LONG": "128"])
        #expect(
            try templateError(
                ordersTemplate("Description: !FindInMap [Sizes, mars, Large]", top: "Mappings:\n  Sizes:\n    us-east-1: {Large: '1024'}"))
                == "OrdersFunction Description: Fn::FindInMap: mapping Sizes has no key mars")
    }

    @Test func getAttAcceptsTheListFormAndRefusesUnknownAttributesOfFunctions() throws {
        let variables = try environment("ARN: {\"Fn::GetAtt\": [OrdersFunction, Arn]}\nSHORT: !GetAtt [OrdersFunction, Arn]")
        #expect(variables["ARN"] == "arn:aws:lambda:us-east-1:123456789012:function:OrdersFunction")
        #expect(variables["SHORT"] == variables["ARN"])
        #expect(
            try templateError(ordersTemplate("Description: !GetAtt OrdersFunction.Version"))
                == "OrdersFunction Description: !GetAtt OrdersFunction.Version: Aviary knows a function's Arn, not its Version")
    }

    @Test func aFunctionsAliasARNNeedsAnAlias() throws {
        let spec = try parseTemplate(ordersTemplate("AutoPublishAlias: live\nDescription: !Ref OrdersFunction.Alias"))
        #expect(spec.function("OrdersFunction")?.settings.description == "arn:aws:lambda:us-east-1:123456789012:function:OrdersFunction:live")
        #expect(
            try templateError(ordersTemplate("Description: !Ref OrdersFunction.Alias"))
                == "OrdersFunction Description: !Ref OrdersFunction.Alias: OrdersFunction has no AutoPublishAlias, so no Alias")
    }

    @Test func referencesToResourcesAviaryDoesNotDeployEvaluateToTheirNamesWithAWarning() throws {
        let spec = try parseTemplate(
            ordersTemplate("Description: !Sub 'reads ${Bucket} and ${Bucket.Arn}'", resources: "Bucket:\n  Type: AWS::S3::Bucket"))
        #expect(spec.function("OrdersFunction")?.settings.description == "reads Bucket and Bucket.Arn")
        #expect(
            spec.warnings == [
                "not deployed by Aviary: Bucket (AWS::S3::Bucket)",
                "OrdersFunction Description: !Ref Bucket (AWS::S3::Bucket, not deployed by Aviary) evaluates to 'Bucket'",
                "OrdersFunction Description: !GetAtt Bucket.Arn (AWS::S3::Bucket, not deployed by Aviary) evaluates to 'Bucket.Arn'",
            ])
    }

    @Test func functionNamesMayReferToOtherFunctions() throws {
        let spec = try parseTemplate(
            ordersTemplate(
                "FunctionName: !Sub '${UsersFunction}-orders'",
                resources: """
                    UsersFunction:
                      Type: AWS::Serverless::Function
                      Properties: {FunctionName: users, Runtime: python3.13, Handler: app.handler, CodeUri: src}
                    """))
        #expect(spec.function("OrdersFunction")?.name.rawValue == "users-orders")
        #expect(
            try templateError(ordersTemplate("FunctionName: !Sub '${OrdersFunction}-x'"))
                == "OrdersFunction: FunctionName depends on itself (OrdersFunction → OrdersFunction)")
    }

    @Test(arguments: [
        ("!ImportValue shared-table", "!ImportValue reads another stack's exports; Aviary deploys one template on its own, so pass the value as a parameter"),
        ("{\"Fn::ImportValue\": shared}", "Fn::ImportValue reads another stack's exports; Aviary deploys one template on its own, so pass the value as a parameter"),
        ("!Select [0, !GetAZs '']", "!GetAZs describes AWS networking, which Aviary does not model"),
        ("!Select [0, !Cidr [10.0.0.0/16, 2, 8]]", "!Cidr describes AWS networking, which Aviary does not model"),
        ("{\"Fn::Transform\": {Name: Macro}}", "Fn::Transform runs a CloudFormation macro, which Aviary cannot"),
        ("!Shout hello", "!Shout is not an intrinsic function Aviary can evaluate"),
        ("!Equals [a, b]", "!Equals belongs in the Conditions section; use Fn::If here"),
    ])
    func unsupportedIntrinsicsAreRefusedWithTheirPath(_ value: String, _ problem: String) throws {
        let message = try templateError(ordersTemplate("Environment:\n  Variables:\n    SHARED: \(value)"))
        #expect(message == "OrdersFunction Environment.Variables.SHARED: \(problem)")
    }

    @Test func badReferencesAreRefused() throws {
        #expect(
            try templateError(ordersTemplate("Description: !Ref Nothing"))
                == "OrdersFunction Description: !Ref Nothing: the template has no parameter, pseudo parameter or resource named Nothing")
        #expect(
            try templateError(ordersTemplate("Description: !If [Missing, a, b]"))
                == "OrdersFunction Description: no condition named Missing in the Conditions section")
        #expect(
            try templateError(ordersTemplate("Description: !If [Loop, a, b]", top: "Conditions:\n  Loop: !Not [!Condition Loop]"))
                == "Conditions.Loop: refers to itself (Loop → Loop)")
        #expect(
            try templateError(ordersTemplate("Description: !Join [',', [a, [b]]]"))
                == "OrdersFunction Description: Fn::Join joins text, not a list")
        #expect(
            try templateError(
                ordersTemplate(
                    "Description: !Ref Beta",
                    resources: "Beta:\n  Type: AWS::SNS::Topic\n  Condition: Never",
                    top: "Conditions:\n  Never: !Equals [a, b]"))
                == "OrdersFunction Description: !Ref Beta: Beta is not created, because its condition Never is false")
        #expect(
            try templateError(ordersTemplate("Description: !Ref Secret", top: "Parameters:\n  Secret: {Type: 'AWS::SSM::Parameter::Value<String>', Default: /app/secret}"))
                == "OrdersFunction Description: !Ref Secret: Parameters.Secret: Type AWS::SSM::Parameter::Value<String> reads AWS Systems "
                + "Manager Parameter Store, which Aviary cannot; declare the parameter as String and pass its value")
    }

    @Test func globalsMergeUnderEachFunction() throws {
        let template = """
            Globals:
              Function:
                Runtime: nodejs22.x
                Handler: index.handler
                MemorySize: 256
                Architectures: [arm64]
                Environment:
                  Variables: {SHARED: global, OVERRIDDEN: global}
            Resources:
              OrdersFunction:
                Type: AWS::Serverless::Function
                Properties:
                  CodeUri: src
                  MemorySize: 1024
                  Architectures: [x86_64]
                  Environment:
                    Variables: {OVERRIDDEN: own, OWN: own}
            """
        let settings = try #require(try parseTemplate(template).function("OrdersFunction")?.settings)
        #expect(settings.runtime == "nodejs22.x")
        #expect(settings.handler == "index.handler")
        #expect(settings.memorySize == 1024)
        #expect(settings.architectures == ["x86_64"], "a list is replaced, not concatenated")
        #expect(settings.environment == ["SHARED": "global", "OVERRIDDEN": "own", "OWN": "own"])
    }
}
