import AviaryCore
@testable import AviaryTemplate
import Foundation
import Testing

@Suite struct FunctionURLTemplateTests {
    @Test func functionUrlConfigIsRead() throws {
        let spec = try parseTemplate(ordersTemplate("""
            AutoPublishAlias: live
            FunctionUrlConfig:
              AuthType: AWS_IAM
              InvokeMode: BUFFERED
              Cors:
                AllowOrigins: [https://shop.example]
                AllowMethods: [GET, POST]
                AllowCredentials: true
                MaxAge: 300
            """))
        let url = try #require(spec.functions.first?.url)
        #expect(url.authType == .awsIAM && url.invokeMode == "BUFFERED")
        #expect(url.cors == FunctionURLConfig.Cors(
            allowCredentials: true, allowMethods: ["GET", "POST"], allowOrigins: ["https://shop.example"], maxAge: 300))
        #expect(try parseTemplate(ordersTemplate("FunctionUrlConfig: {AuthType: NONE}")).functions.first?.url
            == FunctionURLSpec(authType: .noAuth, cors: nil, invokeMode: nil))
        #expect(try parseTemplate(ordersTemplate()).functions.first?.url == nil)
    }

    @Test func aBadFunctionUrlConfigIsRefusedByName() throws {
        #expect(try templateError(ordersTemplate("FunctionUrlConfig: {Cors: {AllowOrigins: ['*']}}"))
            == "OrdersFunction FunctionUrlConfig: AuthType is missing (NONE or AWS_IAM)")
        #expect(try templateError(ordersTemplate("FunctionUrlConfig: {AuthType: PUBLIC}"))
            == "OrdersFunction FunctionUrlConfig.AuthType: must be NONE or AWS_IAM, not 'PUBLIC'")
        #expect(try templateError(ordersTemplate("FunctionUrlConfig: {AuthType: NONE, Cors: {MaxAge: soon}}"))
            == "OrdersFunction FunctionUrlConfig.Cors.MaxAge: 'soon' is not a whole number of seconds")
        #expect(try templateError(ordersTemplate("FunctionUrlConfig: {AuthType: NONE, Stream: yes}"))
            == "OrdersFunction FunctionUrlConfig: has no property Stream (AuthType, Cors, InvokeMode)")
        #expect(try templateError(ordersTemplate("FunctionUrlConfig: NONE"))
            == "OrdersFunction FunctionUrlConfig: must be a mapping with AuthType, and optionally Cors and InvokeMode")
    }
}

@Suite struct EventInvokeTemplateTests {
    @Test func eventInvokeConfigIsRead() throws {
        let spec = try parseTemplate(ordersTemplate("""
            AutoPublishAlias: live
            EventInvokeConfig:
              MaximumRetryAttempts: 0
              MaximumEventAgeInSeconds: 600
              DestinationConfig:
                OnFailure:
                  Type: Lambda
                  Destination: arn:aws:lambda:us-east-1:123456789012:function:recorder
            """))
        #expect(spec.functions.first?.eventInvoke == EventInvokeConfig.Change(
            maximumRetryAttempts: 0, maximumEventAgeInSeconds: 600, onSuccess: nil,
            onFailure: "arn:aws:lambda:us-east-1:123456789012:function:recorder"))
    }

    @Test func destinationsOtherThanFunctionsAreRefused() throws {
        #expect(try templateError(ordersTemplate("EventInvokeConfig: {DestinationConfig: {OnFailure: {Type: SQS, Destination: arn:aws:sqs:us-east-1:123456789012:q}}}"))
            == "OrdersFunction EventInvokeConfig.DestinationConfig.OnFailure.Type: SQS destinations are not supported: Aviary delivers to Lambda functions")
        #expect(try templateError(ordersTemplate("EventInvokeConfig: {MaximumRetryAttempts: twice}"))
            == "OrdersFunction EventInvokeConfig.MaximumRetryAttempts: 'twice' is not a whole number")
        #expect(try templateError(ordersTemplate("EventInvokeConfig: {Retries: 1}"))
            == "OrdersFunction EventInvokeConfig: has no property Retries (MaximumRetryAttempts, MaximumEventAgeInSeconds, DestinationConfig)")
    }
}
