public import AviaryCore
import Crypto
import Foundation
import GRDB

/// One entry of the audit trail: an event, its place in the chain, and the hashes that chain it.
public struct AuditEntry: Sendable, Hashable {
    public let sequence: Int64
    public let event: AuditEvent
    public let previousHash: String
    public let hash: String
}

/// The newest entry's sequence and hash: where the next entry attaches.
struct AuditChainHead: Sendable {
    var sequence: Int64
    var hash: String

    /// The hash every chain starts from.
    static let genesis = String(repeating: "0", count: 64)

    static func load(_ db: Database) throws -> AuditChainHead {
        guard let row = try AuditRow.order(Column("sequence").desc).fetchOne(db) else {
            return AuditChainHead(sequence: 0, hash: genesis)
        }
        return AuditChainHead(sequence: row.sequence, hash: row.hash)
    }

    /// Inserts `event` after this head; returns the new head.
    func append(_ event: AuditEvent, in db: Database) throws -> AuditChainHead {
        let next = sequence + 1
        let body = try AuditRow.encode(event)
        let digest = AuditRow.hash(sequence: next, previousHash: hash, body: body)
        try AuditRow(
            sequence: next, at: event.at.millisecondsSince1970, function: event.function?.rawValue,
            alias: event.alias?.rawValue, deployment: event.deployment?.rawValue, repository: event.repository,
            event: body, previousHash: hash, hash: digest
        ).insert(db)
        return AuditChainHead(sequence: next, hash: digest)
    }
}

/// One row of `audit`: the event as canonical JSON (sorted keys), with the columns it is filtered by.
struct AuditRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "audit"
    var sequence: Int64
    var at: Int64
    var function: String?
    var alias: String?
    var deployment: String?
    var repository: String?
    var event: String
    var previousHash: String
    var hash: String

    static func encode(_ event: AuditEvent) throws -> String {
        try ColumnCoder().encode(event)
    }

    /// SHA-256 over the sequence, the previous entry's hash and the event's canonical JSON.
    static func hash(sequence: Int64, previousHash: String, body: String) -> String {
        let digest = SHA256.hash(data: Data("\(sequence)\n\(previousHash)\n\(body)".utf8))
        return digest.map { String(format: "%02x", $0) }.joined()
    }

    func entry() throws -> AuditEntry {
        AuditEntry(
            sequence: sequence, event: try ColumnCoder().decode(AuditEvent.self, from: event), previousHash: previousHash,
            hash: hash)
    }
}

/// The outcome of checking the whole chain.
public struct AuditVerification: Sendable, Equatable {
    public let entries: Int
    /// The first entry that does not match (edited, or following a deleted one); nil when intact.
    public let firstBroken: Int64?
    public let problem: String?

    public var intact: Bool { firstBroken == nil }
}

extension RegistryStore {
    /// Audit entries in order, filtered; `after` is the last sequence of the previous page.
    public func auditEntries(
        function: FunctionName? = nil, alias: AliasName? = nil, deployment: DeploymentID? = nil, repository: String? = nil,
        since: Timestamp? = nil, after: Int64? = nil, limit: Int = 100
    ) async throws -> [AuditEntry] {
        try await writer.read { db in
            var request = AuditRow.all()
            if let function { request = request.filter(Column("function") == function.rawValue) }
            if let alias { request = request.filter(Column("alias") == alias.rawValue) }
            if let deployment { request = request.filter(Column("deployment") == deployment.rawValue) }
            if let repository { request = request.filter(Column("repository") == repository) }
            if let since { request = request.filter(Column("at") >= since.millisecondsSince1970) }
            if let after { request = request.filter(Column("sequence") > after) }
            return try request.order(Column("sequence")).limit(limit).fetchAll(db).map { try $0.entry() }
        }
    }

    /// Recomputes every hash from the start: an edited entry, a deleted one in the middle, or a broken
    /// link shows up as the first entry that does not match.
    public func verifyAudit() async throws -> AuditVerification {
        try await writer.read { db in
            var previous = AuditChainHead.genesis
            var expected: Int64 = 1
            var count = 0
            let rows = try AuditRow.order(Column("sequence")).fetchCursor(db)
            while let row = try rows.next() {
                count += 1
                if row.sequence != expected {
                    return AuditVerification(entries: count, firstBroken: row.sequence, problem: "entry \(expected) is missing")
                }
                if row.previousHash != previous {
                    return AuditVerification(entries: count, firstBroken: row.sequence, problem: "entry \(row.sequence) does not link to the entry before it")
                }
                if AuditRow.hash(sequence: row.sequence, previousHash: row.previousHash, body: row.event) != row.hash {
                    return AuditVerification(entries: count, firstBroken: row.sequence, problem: "entry \(row.sequence) was changed after it was written")
                }
                let decoded = try? JSONDecoder().decode(AuditEvent.self, from: Data(row.event.utf8))
                if decoded == nil || decoded!.at.millisecondsSince1970 != row.at || decoded!.function?.rawValue != row.function
                    || decoded!.repository != row.repository
                {
                    return AuditVerification(entries: count, firstBroken: row.sequence, problem: "entry \(row.sequence)'s columns do not match its recorded event")
                }
                previous = row.hash
                expected += 1
            }
            return AuditVerification(entries: count, firstBroken: nil, problem: nil)
        }
    }
}
