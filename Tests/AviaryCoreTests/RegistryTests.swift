@testable import AviaryCore
import Testing

@Suite struct RegistryTests {
    let changes = TestChanges()

    func registry(functions count: Int, versionsEach: Int = 0) throws -> Registry {
        var list: [LambdaFunction] = []
        for index in 0..<count {
            var function = try makeFunction("fn-\(LambdaTimestamp.pad(index, 3))", changes: changes)
            for v in 0..<versionsEach {
                try function.updateConfiguration(FunctionSettings(description: "v\(v)"), expectedRevisionId: nil, context: changes.context)
                _ = try function.publishVersion(context: changes.context)
            }
            list.append(function)
        }
        return Registry(list)
    }

    @Test func listingPagesAreCappedAt50AndCoverEverything() throws {
        let registry = try registry(functions: 120)
        var names: [String] = []
        var marker: String?
        var pages = 0
        repeat {
            let page = try registry.listFunctions(allVersions: false, marker: marker, maxItems: 10_000)
            #expect(page.items.count <= 50)
            names += page.items.map(\.name.rawValue)
            marker = page.nextMarker
            pages += 1
        } while marker != nil && pages < 10
        #expect(pages == 3)
        #expect(names == (0..<120).map { "fn-\(LambdaTimestamp.pad($0, 3))" })
    }

    @Test func maxItemsSetsThePageSize() throws {
        let registry = try registry(functions: 10)
        let first = try registry.listFunctions(allVersions: false, marker: nil, maxItems: 7)
        #expect(first.items.count == 7)
        let second = try registry.listFunctions(allVersions: false, marker: first.nextMarker, maxItems: 7)
        #expect(second.items.map(\.name.rawValue) == ["fn-007", "fn-008", "fn-009"])
        #expect(second.nextMarker == nil)
        expectLambdaError(.validation) { _ = try registry.listFunctions(allVersions: false, marker: nil, maxItems: 0) }
        expectLambdaError(.validation) { _ = try registry.listFunctions(allVersions: false, marker: nil, maxItems: 10_001) }
        expectLambdaError(.invalidParameterValue) { _ = try registry.listFunctions(allVersions: false, marker: "%%%", maxItems: nil) }
    }

    @Test func allVersionsListsLatestThenVersionsInNumericOrder() throws {
        let registry = try registry(functions: 2, versionsEach: 11)
        var entries: [String] = []
        var marker: String?
        repeat {
            let page = try registry.listFunctions(allVersions: true, marker: marker, maxItems: 5)
            entries += page.items.map { "\($0.name):\($0.version)" }
            marker = page.nextMarker
        } while marker != nil
        let expected = ["fn-000", "fn-001"].flatMap { name in ["\(name):$LATEST"] + (1...11).map { "\(name):\($0)" } }
        #expect(entries == expected)
    }

    @Test func aPageResumesAfterItsLastItemWasDeleted() throws {
        var registry = try registry(functions: 6)
        let first = try registry.listFunctions(allVersions: false, marker: nil, maxItems: 3)
        registry.functions[FunctionName(trusted: "fn-002")] = nil
        let second = try registry.listFunctions(allVersions: false, marker: first.nextMarker, maxItems: 3)
        #expect(second.items.map(\.name.rawValue) == ["fn-003", "fn-004", "fn-005"])
    }

    @Test func usageCountsEachArchiveOnce() throws {
        let registry = try registry(functions: 3, versionsEach: 2)
        #expect(registry.usage.functionCount == 3)
        #expect(registry.usage.totalCodeSize == codeA.size)
    }

    @Test func unknownFunctionsAreNotFound() throws {
        let registry = try registry(functions: 1)
        expectLambdaError(.resourceNotFound, "Function not found: arn:aws:lambda:us-east-1:123456789012:function:nope") {
            _ = try registry.function(FunctionName(trusted: "nope"), scope: scope)
        }
    }
}

@Suite struct TimestampTests {
    @Test(arguments: [
        (Int64(0), "1970-01-01T00:00:00.000+0000"),
        (Int64(1_586_545_592_563), "2020-04-10T19:06:32.563+0000"),
        (Int64(951_782_400_007), "2000-02-29T00:00:00.007+0000"),
        (Int64(4_102_444_799_999), "2099-12-31T23:59:59.999+0000"),
        (Int64(-1), "1969-12-31T23:59:59.999+0000"),
    ])
    func lastModifiedUsesLambdasFormat(milliseconds: Int64, text: String) {
        #expect(Timestamp(millisecondsSince1970: milliseconds).description == text)
    }
}

@Suite struct ReservedConcurrencyTests {
    @Test func reservationsMustLeave100Unreserved() throws {
        let changes = TestChanges()
        var a = try makeFunction("a", changes: changes)
        a.reservedConcurrency = 500
        let b = try makeFunction("b", changes: changes)
        let registry = Registry([a, b])
        #expect(registry.unreservedConcurrency == 500)
        try registry.validateReservation(400, for: b.name)
        expectLambdaError(
            .invalidParameterValue,
            "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [100]."
        ) { try registry.validateReservation(401, for: b.name) }
        // A function's own current reservation does not count against its new one.
        try registry.validateReservation(900, for: a.name)
        expectLambdaError(.validation) { try registry.validateReservation(-1, for: a.name) }
    }

    @Test func throttlesCarryAWSsReason() {
        let error = LambdaError.throttled(reason: "ConcurrentInvocationLimitExceeded")
        #expect(error.code == .tooManyRequests && error.message == "Rate Exceeded.")
        #expect(error.reason == "ConcurrentInvocationLimitExceeded")
    }
}
