@testable import AviaryCore
import Testing

@Suite struct PublishRulesTests {
    let changes = TestChanges()

    @Test func createWithPublishCreatesVersionOne() throws {
        let function = try makeFunction(changes: changes, publish: true)
        #expect(function.versions.keys.map(\.value) == [1])
        #expect(function.lastVersionNumber == 1)
        #expect(function.versions[VersionNumber(1)]?.configuration.code == codeA)
    }

    @Test func publishingTwiceWithoutChangeReturnsSameVersion() throws {
        var function = try makeFunction(changes: changes)
        let first = try function.publishVersion(context: changes.context)
        let second = try function.publishVersion(context: changes.context)
        #expect(first.number.value == 1)
        #expect(second == first)
        #expect(function.versions.count == 1)
    }

    @Test func anyUpdateSinceTheLastPublishMakesANewVersion() throws {
        var function = try makeFunction(changes: changes)
        _ = try function.publishVersion(context: changes.context)
        // Even re-uploading identical code counts as a change, as on AWS.
        _ = try function.updateCode(codeA, architectures: nil, expectedRevisionId: nil, publish: false, context: changes.context)
        #expect(try function.publishVersion(context: changes.context).number.value == 2)
        try function.updateConfiguration(FunctionSettings(description: "d"), expectedRevisionId: nil, context: changes.context)
        let third = try function.publishVersion(context: changes.context)
        #expect(third.number.value == 3)
        #expect(third.configuration.description == "d")
    }

    @Test func numbersAreNeverReusedAfterADelete() throws {
        var function = try makeFunctionWithTwoVersions(changes: changes)
        try function.deleteVersion(VersionNumber(2))
        // The newest remaining version was cut from an older revision, so this publishes.
        #expect(try function.publishVersion(context: changes.context).number.value == 3)
        try function.deleteVersion(VersionNumber(3))
        try function.deleteVersion(VersionNumber(1))
        #expect(function.versions.isEmpty)
        #expect(try function.publishVersion(context: changes.context).number.value == 4)
    }

    @Test func updateCodeWithPublishReturnsTheNewVersion() throws {
        var function = try makeFunction(changes: changes, publish: true)
        let published = try function.updateCode(codeB, architectures: nil, expectedRevisionId: nil, publish: true, context: changes.context)
        #expect(published?.number.value == 2)
        #expect(published?.configuration.code == codeB)
        #expect(function.latest.code == codeB)
    }

    @Test func aVersionIsASnapshotThatLaterUpdatesDoNotTouch() throws {
        var function = try makeFunction(changes: changes)
        let version = try function.publishVersion(context: changes.context)
        try function.updateConfiguration(FunctionSettings(timeout: 60), expectedRevisionId: nil, context: changes.context)
        #expect(function.versions[version.number]?.configuration.timeout == 3)
        #expect(function.latest.timeout == 60)
    }

    @Test func versionsHaveTheirOwnRevisionAndTheRequestedDescription() throws {
        var function = try makeFunction(changes: changes)
        let version = try function.publishVersion(description: "release 1", context: changes.context)
        #expect(version.configuration.description == "release 1")
        #expect(function.latest.description == "")
        #expect(version.configuration.revisionId != function.latest.revisionId)
        #expect(version.sourceRevisionId == function.latest.revisionId)
    }

    @Test func codeSha256IsAPrecondition() throws {
        var function = try makeFunction(changes: changes)
        expectLambdaError(
            .invalidParameterValue,
            "CodeSHA256 (BBBB) is different from current CodeSHA256 in $LATEST (AAAA). Please try again with the CodeSHA256 in $LATEST."
        ) { _ = try function.publishVersion(expectedCodeSha256: "BBBB", context: changes.context) }
        #expect(function.versions.isEmpty)
        #expect(try function.publishVersion(expectedCodeSha256: "AAAA", context: changes.context).number.value == 1)
    }

    @Test func revisionIdIsAPreconditionOfPublishAndUpdates() throws {
        var function = try makeFunction(changes: changes)
        let message = "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id"
        expectLambdaError(.preconditionFailed, message) {
            _ = try function.publishVersion(expectedRevisionId: "stale", context: changes.context)
        }
        expectLambdaError(.preconditionFailed, message) {
            _ = try function.updateCode(codeB, architectures: nil, expectedRevisionId: "stale", publish: true, context: changes.context)
        }
        expectLambdaError(.preconditionFailed, message) {
            try function.updateConfiguration(FunctionSettings(timeout: 5), expectedRevisionId: "stale", context: changes.context)
        }
        #expect(function.latest.code == codeA)
        let current = function.latest.revisionId
        _ = try function.updateCode(codeB, architectures: nil, expectedRevisionId: current, publish: false, context: changes.context)
        #expect(function.latest.revisionId != current)
        #expect(function.latest.code == codeB)
    }

    @Test func everyUpdateRotatesTheRevisionAndLastModified() throws {
        let later = TestChanges(now: Timestamp(millisecondsSince1970: 1_800_000_000_000), prefix: "later")
        var function = try makeFunction(changes: changes)
        let revision = function.latest.revisionId
        try function.updateConfiguration(FunctionSettings(memorySize: 256), expectedRevisionId: nil, context: later.context)
        #expect(function.latest.revisionId != revision)
        #expect(function.latest.lastModified == later.now)
    }

    @Test func deletingAVersionAnAliasUsesIsRefused() throws {
        var function = try makeFunctionWithTwoVersions(changes: changes)
        _ = try function.createAlias(name: AliasName(trusted: "live"), functionVersion: "1", description: nil, weights: ["2": 0.1], scope: scope, context: changes.context)
        _ = try function.createAlias(name: AliasName(trusted: "beta"), functionVersion: "2", description: nil, weights: nil, scope: scope, context: changes.context)
        expectLambdaError(.resourceConflict, "Unable to delete version because the following aliases reference it: [live]") {
            try function.deleteVersion(VersionNumber(1))
        }
        // An additional (weighted) version is protected too.
        expectLambdaError(.resourceConflict, "Unable to delete version because the following aliases reference it: [beta, live]") {
            try function.deleteVersion(VersionNumber(2))
        }
        try function.deleteVersion(VersionNumber(99))
        #expect(function.versions.count == 2)
    }

    @Test func qualifiersResolveToConfigurations() throws {
        var function = try makeFunctionWithTwoVersions(changes: changes)
        _ = try function.createAlias(name: AliasName(trusted: "live"), functionVersion: "1", description: nil, weights: nil, scope: scope, context: changes.context)
        #expect(try function.resolve(nil, scope: scope).version == .latest)
        #expect(try function.resolve(.version(.published(VersionNumber(2))), scope: scope).configuration.code == codeB)
        let viaAlias = try function.resolve(.alias(AliasName(trusted: "live")), scope: scope)
        #expect(viaAlias.version == .published(VersionNumber(1)))
        #expect(viaAlias.alias?.name.rawValue == "live")
        expectLambdaError(.resourceNotFound, "Function not found: arn:aws:lambda:us-east-1:123456789012:function:orders:9") {
            _ = try function.resolve(.version(.published(VersionNumber(9))), scope: scope)
        }
        expectLambdaError(.resourceNotFound, "Function not found: arn:aws:lambda:us-east-1:123456789012:function:orders:nope") {
            _ = try function.resolve(.alias(AliasName(trusted: "nope")), scope: scope)
        }
    }
}
