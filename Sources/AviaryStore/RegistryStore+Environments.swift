public import AviaryCore
import GRDB

extension RegistryStore {
    /// Every environment: the configured ones, and the built-in `dev`, `qa` and `prod` where not
    /// configured. Sorted by name.
    public func environments() async throws -> [EnvironmentPolicy] {
        let stored = try await writer.read { db in
            try EnvironmentRow.order(Column("name")).fetchAll(db).map { try $0.policy(coder: ColumnCoder()) }
        }
        let names = Set(stored.map(\.name))
        return (stored + EnvironmentPolicy.builtIn.filter { !names.contains($0.name) }).sorted { $0.name < $1.name }
    }

    /// One environment, configured or built in.
    public func environment(_ name: String) async throws -> EnvironmentPolicy? {
        let stored = try await writer.read { db in
            try EnvironmentRow.fetchOne(db, key: name).map { try $0.policy(coder: ColumnCoder()) }
        }
        return stored ?? EnvironmentPolicy.builtIn.first { $0.name == name }
    }

    /// Creates or replaces an environment, with its audit entry, in one transaction.
    public func save(_ environment: EnvironmentPolicy, audit: AuditEvent?) async throws {
        let row = try EnvironmentRow(environment, at: now(), coder: ColumnCoder())
        try await write(audit: audit.map { [$0] } ?? []) { db in try row.save(db) }
    }

    /// Deletes a configured environment (a built-in one goes back to its defaults). False when there was
    /// nothing to delete.
    public func deleteEnvironment(_ name: String, audit: AuditEvent?) async throws -> Bool {
        let exists = try await writer.read { db in try EnvironmentRow.exists(db, key: name) }
        guard exists else { return false }
        try await write(audit: audit.map { [$0] } ?? []) { db in _ = try EnvironmentRow.deleteOne(db, key: name) }
        return true
    }

    /// Appends audit entries that record no change of state (a refused approval, for instance).
    public func appendAudit(_ events: [AuditEvent]) async throws {
        try await write(audit: events)
    }
}

/// One row of `environment`: the policy as JSON.
struct EnvironmentRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "environment"
    var name: String
    var body: String
    var updatedAt: Int64

    init(_ policy: EnvironmentPolicy, at time: Timestamp, coder: ColumnCoder) throws {
        name = policy.name
        body = try coder.encode(policy)
        updatedAt = time.millisecondsSince1970
    }

    func policy(coder: ColumnCoder) throws -> EnvironmentPolicy {
        try coder.decode(EnvironmentPolicy.self, from: body)
    }
}
