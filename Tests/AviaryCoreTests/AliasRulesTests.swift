@testable import AviaryCore
import Testing

@Suite struct AliasRulesTests {
    let changes = TestChanges()
    let live = AliasName(trusted: "live")

    func create(
        _ function: inout LambdaFunction, version: String = "1", weights: [String: Double]? = nil
    ) throws -> Alias {
        try function.createAlias(
            name: live, functionVersion: version, description: nil, weights: weights, scope: scope,
            context: changes.context)
    }

    func update(
        _ function: inout LambdaFunction, version: String? = nil, weights: [String: Double]? = nil,
        revision: String? = nil
    ) throws -> Alias {
        try function.updateAlias(
            name: live, functionVersion: version, description: nil, weights: weights, expectedRevisionId: revision,
            scope: scope, context: changes.context)
    }

    @Test func aCanaryRoutesAWeightToTheAdditionalVersion() throws {
        var function = try makeFunctionWithTwoVersions(changes: changes)
        let alias = try create(&function, weights: ["2": 0.1])
        #expect(alias.functionVersion == .published(VersionNumber(1)))
        #expect(alias.routing == AliasRouting(additionalVersion: VersionNumber(2), weight: Weight(0.1)!))
        #expect(alias.description == "")
    }

    @Test func anAliasMayPointAtLatestWithoutRouting() throws {
        var function = try makeFunction(changes: changes)
        #expect(try create(&function, version: "$LATEST").functionVersion == .latest)
    }

    @Test func atMostOneAdditionalVersion() throws {
        var function = try makeFunctionWithTwoVersions(changes: changes)
        _ = try function.publishVersion(context: changes.context)
        expectLambdaError(.invalidParameterValue, "Number of items in AdditionalVersionWeights cannot be greater than 1") {
            _ = try create(&function, weights: ["2": 0.1, "3": 0.1])
        }
        #expect(function.aliases.isEmpty)
    }

    @Test(arguments: [1.5, -0.1, Double.nan, Double.infinity])
    func weightsOutsideZeroToOneAreRefused(weight: Double) throws {
        var function = try makeFunctionWithTwoVersions(changes: changes)
        expectLambdaError(.validation) { _ = try create(&function, weights: ["2": weight]) }
    }

    @Test func theWeightErrorQuotesTheMapAsAWSDoes() throws {
        var function = try makeFunctionWithTwoVersions(changes: changes)
        expectLambdaError(
            .validation,
            "1 validation error detected: Value '{2=2.0}' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0, Member must not be null]"
        ) { _ = try create(&function, weights: ["2": 2.0]) }
    }

    @Test(arguments: [0.0, 1.0, 0.5])
    func boundaryWeightsAreAccepted(weight: Double) throws {
        var function = try makeFunctionWithTwoVersions(changes: changes)
        #expect(try create(&function, weights: ["2": weight]).routing?.weight.value == weight)
    }

    @Test(arguments: ["$LATEST", "live", "", "1a"])
    func additionalVersionKeysMustBeNumeric(key: String) throws {
        var function = try makeFunctionWithTwoVersions(changes: changes)
        expectLambdaError(.validation) { _ = try create(&function, weights: [key: 0.5]) }
        let error = lambdaError { _ = try create(&function, weights: [key: 0.5]) }
        #expect(error?.message.contains("Map keys must satisfy constraint: [Member must have length less than or equal to 1024, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: [0-9]+]") == true)
    }

    @Test func latestCannotBeThePrimaryOfASplit() throws {
        var function = try makeFunctionWithTwoVersions(changes: changes)
        expectLambdaError(.invalidParameterValue, "$LATEST is not supported for an alias pointing to more than 1 version") {
            _ = try create(&function, version: "$LATEST", weights: ["2": 0.5])
        }
    }

    @Test func theAdditionalVersionMustDifferFromThePrimary() throws {
        var function = try makeFunctionWithTwoVersions(changes: changes)
        expectLambdaError(
            .invalidParameterValue,
            "Invalid function version 1. Function version 1 is already included in routing configuration."
        ) { _ = try create(&function, weights: ["1": 0.5]) }
    }

    @Test func bothVersionsMustExist() throws {
        var function = try makeFunctionWithTwoVersions(changes: changes)
        expectLambdaError(.resourceNotFound, "Function not found: arn:aws:lambda:us-east-1:123456789012:function:orders:9") {
            _ = try create(&function, version: "9")
        }
        expectLambdaError(.resourceNotFound, "Function not found: arn:aws:lambda:us-east-1:123456789012:function:orders:10") {
            _ = try create(&function, weights: ["10": 0.5])
        }
    }

    @Test func bothVersionsMustShareTheExecutionRole() throws {
        var function = try makeFunction(changes: changes, publish: true)
        try function.updateConfiguration(
            FunctionSettings(role: "arn:aws:iam::123456789012:role/other"), expectedRevisionId: nil, context: changes.context)
        _ = try function.publishVersion(context: changes.context)
        expectLambdaError(.invalidParameterValue, "Specified versions must be associated with the same execution role") {
            _ = try create(&function, weights: ["2": 0.5])
        }
    }

    @Test func creatingAnExistingAliasConflicts() throws {
        var function = try makeFunctionWithTwoVersions(changes: changes)
        _ = try create(&function)
        expectLambdaError(.resourceConflict, "Alias already exists: arn:aws:lambda:us-east-1:123456789012:function:orders:live") {
            _ = try create(&function)
        }
    }

    @Test func updatingAMissingAliasIsNotFound() throws {
        var function = try makeFunctionWithTwoVersions(changes: changes)
        expectLambdaError(.resourceNotFound, "Alias not found: arn:aws:lambda:us-east-1:123456789012:function:orders:live") {
            _ = try update(&function, version: "1")
        }
    }

    @Test func canaryRollBackAndPromote() throws {
        var function = try makeFunctionWithTwoVersions(changes: changes)
        _ = try create(&function)
        let canary = try update(&function, weights: ["2": 0.1])
        #expect(canary.functionVersion == .published(VersionNumber(1)))
        #expect(canary.routing?.additionalVersion == VersionNumber(2))
        let rolledBack = try update(&function, version: "1", weights: [:])
        #expect(rolledBack.routing == nil)
        _ = try update(&function, weights: ["2": 0.5])
        let promoted = try update(&function, version: "2", weights: [:])
        #expect(promoted.functionVersion == .published(VersionNumber(2)))
        #expect(promoted.routing == nil)
    }

    @Test func omittedRoutingIsKeptAndRevalidatedAgainstTheNewPrimary() throws {
        var function = try makeFunctionWithTwoVersions(changes: changes)
        _ = try function.publishVersion(context: changes.context)  // no change since 2: stays 2
        try function.updateConfiguration(FunctionSettings(description: "3"), expectedRevisionId: nil, context: changes.context)
        _ = try function.publishVersion(context: changes.context)
        _ = try create(&function, weights: ["2": 0.2])
        let moved = try update(&function, version: "3")
        #expect(moved.routing?.additionalVersion == VersionNumber(2))
        expectLambdaError(.invalidParameterValue) { _ = try update(&function, version: "2") }
        #expect(function.aliases[live]?.functionVersion == .published(VersionNumber(3)))
    }

    @Test func theRevisionRotatesOnEveryUpdateEvenANoOp() throws {
        var function = try makeFunctionWithTwoVersions(changes: changes)
        let created = try create(&function)
        let same = try update(&function)
        #expect(same.functionVersion == created.functionVersion)
        #expect(same.revisionId != created.revisionId)
    }

    @Test func theRevisionIdIsAPrecondition() throws {
        var function = try makeFunctionWithTwoVersions(changes: changes)
        let created = try create(&function)
        expectLambdaError(.preconditionFailed) { _ = try update(&function, version: "2", revision: "stale") }
        #expect(function.aliases[live]?.functionVersion == .published(VersionNumber(1)))
        #expect(try update(&function, version: "2", revision: created.revisionId).functionVersion == .published(VersionNumber(2)))
    }

    @Test func deletingAnAliasIsIdempotent() throws {
        var function = try makeFunctionWithTwoVersions(changes: changes)
        _ = try create(&function)
        function.deleteAlias(name: live)
        function.deleteAlias(name: live)
        #expect(function.aliases.isEmpty)
    }

    @Test func descriptionsAreLimitedTo256() throws {
        var function = try makeFunctionWithTwoVersions(changes: changes)
        expectLambdaError(.validation) {
            _ = try function.createAlias(
                name: live, functionVersion: "1", description: String(repeating: "x", count: 257), weights: nil,
                scope: scope, context: changes.context)
        }
    }

    @Test func theWeightedPickFollowsTheDraw() {
        let routing = AliasRouting(additionalVersion: VersionNumber(2), weight: Weight(0.1)!)
        let primary = VersionSelector.published(VersionNumber(1))
        #expect(routing.pick(primary: primary, draw: 0.05) == .published(VersionNumber(2)))
        #expect(routing.pick(primary: primary, draw: 0.1) == primary)
        #expect(routing.pick(primary: primary, draw: 0.99) == primary)
        let draws = (0..<1000).map { Double($0) / 1000 }
        #expect(draws.filter { routing.pick(primary: primary, draw: $0) != primary }.count == 100)
    }
}
