import AviaryCore
public import AviaryStore
import Foundation
public import Hummingbird
import NIOCore

/// The audit trail: `GET /v1/audit` (filtered, paged, oldest first) and `GET /v1/audit/verify`.
public struct AuditAPI: Sendable {
    let store: RegistryStore

    public init(store: RegistryStore) {
        self.store = store
    }

    public func addRoutes(to router: Router<LambdaRequestContext>) {
        router.get("v1/audit", use: list)
        router.get("v1/audit/verify", use: verify)
    }

    struct EntryWire: Encodable {
        var sequence: Int64
        var at: String
        var actor: String
        var source: String?
        var action: String
        var function: String?
        var alias: String?
        var deployment: String?
        var repository: String?
        var build: String?
        var details: [String: String]
        var previousHash: String
        var hash: String
    }

    struct ListWire: Encodable {
        var entries: [EntryWire]
        var nextMarker: String?
    }

    struct VerifyWire: Encodable {
        var intact: Bool
        var entries: Int
        var firstBroken: Int64?
        var problem: String?
    }

    @Sendable func list(_ request: Request, context: LambdaRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        let function = try query.get("function").map { raw in
            try DeploymentsAPI.parse { () throws(LambdaError) in try FunctionName(validating: raw, field: "function") }
        }
        let alias = try query.get("alias").map { raw in
            try DeploymentsAPI.parse { () throws(LambdaError) in try AliasName(validating: raw, field: "alias") }
        }
        let deployment = try query.get("deployment").map { raw in
            guard let id = DeploymentID(raw) else { throw DeploymentError.invalidRequest("deployment is an id such as d-ABCDEFGHI, not \(raw)") }
            return id
        }
        let since = try query.get("since").map { try Self.since($0) }
        let limitText = query.get("limit") ?? "100"
        guard let limit = Int(limitText), (1...1000).contains(limit) else {
            throw DeploymentError.invalidRequest("limit is a number from 1 to 1000, not \(limitText)")
        }
        let after = try query.get("marker").map { raw in
            guard let sequence = Int64(raw), sequence >= 0 else { throw DeploymentError.invalidRequest("invalid marker \(raw)") }
            return sequence
        }
        let page = try await store.auditEntries(
            function: function, alias: alias, deployment: deployment, repository: query.get("repository"), since: since,
            after: after, limit: limit + 1)
        let shown = page.prefix(limit)
        return try aviaryJSON(ListWire(
            entries: shown.map { entry in
                let event = entry.event
                return EntryWire(
                    sequence: entry.sequence, at: event.at.description, actor: event.actor, source: event.source,
                    action: event.action, function: event.function?.rawValue, alias: event.alias?.rawValue,
                    deployment: event.deployment?.rawValue, repository: event.repository, build: event.build,
                    details: event.details, previousHash: entry.previousHash, hash: entry.hash)
            },
            nextMarker: page.count > limit ? shown.last.map { String($0.sequence) } : nil))
    }

    @Sendable func verify(_ request: Request, context: LambdaRequestContext) async throws -> Response {
        let result = try await store.verifyAudit()
        return try aviaryJSON(VerifyWire(intact: result.intact, entries: result.entries, firstBroken: result.firstBroken, problem: result.problem))
    }

    /// `since`: a duration back from now (`1h`, `30m`) or epoch milliseconds.
    static func since(_ text: String) throws -> Timestamp {
        if let back = DurationText.milliseconds(text) {
            return Timestamp(millisecondsSince1970: RegistryStore.systemNow().millisecondsSince1970 - back)
        }
        if let milliseconds = Int64(text) { return Timestamp(millisecondsSince1970: milliseconds) }
        throw DeploymentError.invalidRequest("since is a duration back from now (30m, 24h) or epoch milliseconds, not \(text)")
    }
}
