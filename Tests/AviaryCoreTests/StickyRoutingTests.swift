import AviaryCore
import Testing

@Suite struct StickyRoutingTests {
    let alias: Alias

    init() throws {
        alias = Alias(
            name: try AliasName(validating: "live"), functionVersion: .published(VersionNumber(1)),
            routing: AliasRouting(additionalVersion: VersionNumber(2), weight: Weight(0.3)!), revisionId: "r",
            sticky: try StickyRouting(parsing: "event:user.id"))
    }

    @Test func theSameKeyAlwaysGetsTheSameVersion() {
        for index in 0..<200 {
            let key = "user-\(index)"
            let first = alias.pick(key: { key }, draw: { 0.99 })
            for _ in 0..<5 { #expect(alias.pick(key: { key }, draw: { Double.random(in: 0..<1) }) == first) }
        }
    }

    @Test func keysSplitByTheWeight() {
        let onCanary = (0..<20_000).filter { index in
            alias.pick(key: { "tenant-\(index)" }, draw: { 0 }) == .published(VersionNumber(2))
        }.count
        #expect(abs(Double(onCanary) / 20_000 - 0.3) < 0.02, "\(onCanary) of 20000 keys on the new version at weight 0.3")
    }

    @Test func raisingTheWeightOnlyMovesKeysToTheNewVersion() {
        let keys = (0..<5000).map { "k\($0)" }
        var previous = Set<String>()
        for weight in stride(from: 0.0, through: 1.0, by: 0.1) {
            var stepped = alias
            stepped.routing = AliasRouting(additionalVersion: VersionNumber(2), weight: Weight(min(weight, 1))!)
            let onCanary = Set(keys.filter { key in stepped.pick(key: { key }, draw: { 0 }) == .published(VersionNumber(2)) })
            #expect(previous.isSubset(of: onCanary), "no key leaves the new version as its weight grows")
            previous = onCanary
        }
    }

    @Test func requestsWithoutTheKeyAreDrawnAtRandom() {
        #expect(alias.pick(key: { nil }, draw: { 0.1 }) == .published(VersionNumber(2)))
        #expect(alias.pick(key: { nil }, draw: { 0.9 }) == .published(VersionNumber(1)))
    }

    @Test func keysComeFromHeadersEventFieldsAndClientContext() throws {
        let event: [String: Any] = ["user": ["id": 42, "name": "ada"], "flag": true]
        #expect(try StickyRouting(parsing: "event:user.id").key(header: { _ in nil }, event: { event }, clientContext: { nil }) == "42")
        #expect(try StickyRouting(parsing: "event:user.name").key(header: { _ in nil }, event: { event }, clientContext: { nil }) == "ada")
        #expect(try StickyRouting(parsing: "event:missing").key(header: { _ in nil }, event: { event }, clientContext: { nil }) == nil)
        #expect(try StickyRouting(parsing: "header:X-User").key(header: { $0 == "x-user" ? "u1" : nil }, event: { nil }, clientContext: { nil }) == "u1")
        let context: [String: Any] = ["custom": ["tenant": "acme"]]
        #expect(try StickyRouting(parsing: "client-context:custom.tenant").key(header: { _ in nil }, event: { nil }, clientContext: { context }) == "acme")
    }

    @Test(arguments: ["", "header:", "cookie:x", "event:a..b", "header:bad name", "event"])
    func malformedKeysAreRefused(_ text: String) {
        #expect(throws: DeploymentError.self) { try StickyRouting(parsing: text) }
    }

    @Test func pointsAreStableAcrossRuns() {
        // Pinned values (computed independently): a change of the hash would move users between
        // versions on upgrade.
        #expect(StickyRouting.point(for: "user-1") == 0.7679704410612723)
        #expect(StickyRouting.point(for: "a") == 0.010753497314070604)
        let points = ["a", "b", "user-1"].map(StickyRouting.point(for:))
        #expect(Set(points).count == 3)
        #expect(points.allSatisfy { $0 >= 0 && $0 < 1 })
    }
}
