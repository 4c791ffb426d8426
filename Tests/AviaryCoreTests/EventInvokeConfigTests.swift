@testable import AviaryCore
import Testing

@Suite struct EventInvokeConfigTests {
    let changes = TestChanges()
    let live = AliasName(trusted: "live")
    let recorder = "arn:aws:lambda:us-east-1:123456789012:function:recorder"

    func change(retries: Int? = nil, age: Int? = nil, success: String? = nil, failure: String? = nil) -> EventInvokeConfig.Change {
        .init(maximumRetryAttempts: retries, maximumEventAgeInSeconds: age, onSuccess: success, onFailure: failure)
    }

    @Test func putReplacesUpdateMergesAndUnqualifiedMeansLatest() throws {
        var function = try makeFunction(publish: true)
        let put = try function.putEventInvokeConfig(nil, change(retries: 0, failure: recorder), replacing: true, scope: scope, at: changes.now)
        #expect(put.retries == 0 && put.onFailure == recorder && put.maximumAgeSeconds == 21_600)
        #expect(function.eventInvokeConfigs[.version(.latest)] == put)
        #expect(try function.eventInvokeConfig(.version(.latest), scope: scope) == put)
        let merged = try function.putEventInvokeConfig(nil, change(age: 120), replacing: false, scope: scope, at: changes.now)
        #expect(merged.retries == 0 && merged.maximumEventAgeInSeconds == 120 && merged.onFailure == recorder)
        let replaced = try function.putEventInvokeConfig(nil, change(age: 120), replacing: true, scope: scope, at: changes.now)
        #expect(replaced.maximumRetryAttempts == nil && replaced.onFailure == nil)
        let cleared = try function.putEventInvokeConfig(nil, change(failure: ""), replacing: false, scope: scope, at: changes.now)
        #expect(cleared.onFailure == nil)
        try function.deleteEventInvokeConfig(nil, scope: scope)
        #expect(throws: LambdaError.self) { try function.deleteEventInvokeConfig(nil, scope: scope) }
        #expect(throws: LambdaError.self) {
            try function.putEventInvokeConfig(nil, change(retries: 1), replacing: false, scope: scope, at: changes.now)
        }
    }

    @Test func limitsAndDestinationsAreChecked() throws {
        var function = try makeFunction(publish: true)
        for bad in [
            change(retries: 3), change(retries: -1), change(age: 59), change(age: 21_601),
            change(failure: "arn:aws:sqs:us-east-1:123456789012:dlq"),
            change(success: "arn:aws:lambda:eu-west-1:123456789012:function:recorder"),
            change(success: "arn:aws:lambda:us-east-1:999999999999:function:recorder"),
            change(failure: "arn:aws:lambda:us-east-1:123456789012:function:orders"),  // itself
            change(failure: "recorder"),
        ] {
            #expect(throws: LambdaError.self) {
                try function.putEventInvokeConfig(nil, bad, replacing: true, scope: scope, at: changes.now)
            }
        }
        #expect(function.eventInvokeConfigs.isEmpty)
        _ = try function.putEventInvokeConfig(
            .version(.published(VersionNumber(1))), change(success: recorder + ":live"), replacing: true, scope: scope, at: changes.now)
        #expect(throws: LambdaError.self) {
            try function.putEventInvokeConfig(.version(.published(VersionNumber(7))), change(), replacing: true, scope: scope, at: changes.now)
        }
    }

    @Test func anAliasOrVersionTakesItsConfigurationWithIt() throws {
        var function = try makeFunctionWithTwoVersions(changes: changes)
        _ = try function.createAlias(name: live, functionVersion: "1", description: nil, weights: nil, scope: scope, context: changes.context)
        _ = try function.putEventInvokeConfig(.alias(live), change(retries: 1), replacing: true, scope: scope, at: changes.now)
        _ = try function.putEventInvokeConfig(.version(.published(VersionNumber(2))), change(retries: 1), replacing: true, scope: scope, at: changes.now)
        function.deleteAlias(name: live)
        try function.deleteVersion(VersionNumber(2))
        #expect(function.eventInvokeConfigs.isEmpty)
    }
}
