public import AviaryCore
import Foundation
import GRDB
import Synchronization

/// The durable registry: SQLite holds every function, version and alias; an in-memory `Registry`
/// snapshot answers every read without touching the database.
///
/// Writes run one at a time on GRDB's writer: the closure computes the new state of one function with
/// the pure rules of `AviaryCore`, the differences are written in one transaction, and only after the
/// commit does the snapshot change. A failed write changes neither.
public final class RegistryStore: Sendable {
    let writer: any DatabaseWriter
    private let snapshot: Mutex<Registry>
    let now: @Sendable () -> Timestamp
    private let makeRevisionId: @Sendable () -> String
    private let commits: GroupCommit<Change>
    /// The hash of the newest audit entry: the next one chains to it. Changed only after a commit.
    let auditHead: Mutex<AuditChainHead>

    /// Opens (creating if needed) the database at `path` in WAL mode and loads the snapshot.
    public static func open(
        path: String, now: @escaping @Sendable () -> Timestamp = RegistryStore.systemNow,
        makeRevisionId: @escaping @Sendable () -> String = RegistryStore.randomRevisionId
    ) throws -> RegistryStore {
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        let pool = try DatabasePool(path: path, configuration: configuration)
        // GRDB opens WAL pools with synchronous=NORMAL, which can lose the last commits on power loss.
        // An acknowledged alias change must survive that: FULL syncs the WAL on every commit.
        try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        return try RegistryStore(writer: pool, now: now, makeRevisionId: makeRevisionId)
    }

    /// A throwaway store for tests.
    public static func inMemory(
        now: @escaping @Sendable () -> Timestamp = RegistryStore.systemNow,
        makeRevisionId: @escaping @Sendable () -> String = RegistryStore.randomRevisionId
    ) throws -> RegistryStore {
        try RegistryStore(writer: DatabaseQueue(), now: now, makeRevisionId: makeRevisionId)
    }

    init(
        writer: any DatabaseWriter, now: @escaping @Sendable () -> Timestamp,
        makeRevisionId: @escaping @Sendable () -> String
    ) throws {
        try Schema.migrator.migrate(writer)
        self.writer = writer
        self.now = now
        self.makeRevisionId = makeRevisionId
        self.snapshot = Mutex(try writer.read(Self.load))
        self.auditHead = Mutex(try writer.read(AuditChainHead.load))
        self.commits = GroupCommit()
    }

    public static let systemNow: @Sendable () -> Timestamp = {
        Timestamp(millisecondsSince1970: Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)))
    }

    public static let randomRevisionId: @Sendable () -> String = { UUID().uuidString.lowercased() }

    // MARK: Reads (snapshot only)

    /// The whole registry as of the last committed write.
    public var registry: Registry { snapshot.withLock { $0 } }

    /// One function as of the last committed write.
    public func function(_ name: FunctionName) -> LambdaFunction? {
        snapshot.withLock { $0.functions[name] }
    }

    // MARK: Writes

    /// Adds a function built by `make`; 409 `Function already exist` if the name is taken.
    public func create<Result: Sendable>(
        _ name: FunctionName, audit: AuditEvent? = nil,
        _ make: @escaping @Sendable (ChangeContext) throws -> (LambdaFunction, Result)
    ) async throws -> Result {
        try await write(name, audit: audit.map { [$0] } ?? []) { current, context in
            guard current == nil else { throw LambdaError.resourceConflict("Function already exist: \(name)") }
            let (function, result) = try make(context)
            return (function, result)
        }
    }

    /// Changes one function with `body`; the function's 404 if it does not exist.
    public func update<Result: Sendable>(
        _ name: FunctionName, scope: AccountScope, audit: AuditEvent? = nil,
        _ body: @escaping @Sendable (inout LambdaFunction, ChangeContext) throws -> Result
    ) async throws -> Result {
        try await write(name, audit: audit.map { [$0] } ?? []) { current, context in
            guard var function = current else { throw LambdaError.functionNotFound(scope.functionARN(name)) }
            let result = try body(&function, context)
            return (function, result)
        }
    }

    /// Removes a function with all its versions and aliases; the function's 404 if it does not exist.
    public func delete(_ name: FunctionName, scope: AccountScope, audit: AuditEvent? = nil) async throws {
        try await write(name, audit: audit.map { [$0] } ?? []) { current, _ in
            guard current != nil else { throw LambdaError.functionNotFound(scope.functionARN(name)) }
            return (nil, ())
        }
    }

    /// One change of some functions (usually one): from their current states (nil: absent) to the new
    /// ones, all or nothing, plus a result, and what is saved in the same transaction when the change
    /// succeeds: a deployment record, rows of other tables, and audit entries (an entry without details
    /// gets the change described in words).
    struct Change: Sendable {
        let names: [FunctionName]
        /// Returns the new state of every function in `names`.
        let apply: @Sendable ([FunctionName: LambdaFunction?], ChangeContext) throws -> ([FunctionName: LambdaFunction?], any Sendable)
        var deployment: Deployment?
        var audit: [AuditEvent]
        /// Rows of other tables written in the same transaction.
        var rows: (@Sendable (Database) throws -> Void)?
    }

    func write<Result: Sendable>(
        _ name: FunctionName, saving deployment: Deployment? = nil, audit: [AuditEvent] = [],
        _ apply: @escaping @Sendable (LambdaFunction?, ChangeContext) throws -> (LambdaFunction?, Result)
    ) async throws -> Result {
        try await write([name], saving: deployment, audit: audit) { functions, context in
            let (after, result) = try apply(functions[name] ?? nil, context)
            return ([name: after], result)
        }
    }

    /// Changes several functions in one transaction, all or nothing (a release moving its aliases).
    func write<Result: Sendable>(
        _ names: [FunctionName], saving deployment: Deployment? = nil, audit: [AuditEvent] = [],
        rows: (@Sendable (Database) throws -> Void)? = nil,
        _ apply: @escaping @Sendable ([FunctionName: LambdaFunction?], ChangeContext) throws -> ([FunctionName: LambdaFunction?], Result)
    ) async throws -> Result {
        let change = Change(names: names, apply: { current, context in
            let (after, result) = try apply(current, context)
            return (after, result)
        }, deployment: deployment, audit: audit, rows: rows)
        // The batch returns exactly what `apply` produced, so the cast cannot fail.
        return try await commits.submit(change, runBatch: commit).get() as! Result
    }

    /// Writes rows of tables other than the registry's, with their audit entries, through the same group
    /// commit (so the audit chain has one writer).
    func write(audit: [AuditEvent], rows: (@Sendable (Database) throws -> Void)? = nil) async throws {
        let change = Change(names: [], apply: { current, _ in (current, ()) }, deployment: nil, audit: audit, rows: rows)
        _ = try await commits.submit(change, runBatch: commit).get()
    }

    /// Runs a batch of changes in order, each seeing the ones before it, and commits the net difference in
    /// one transaction. A change whose rule fails is skipped (its caller gets the error); if the commit
    /// fails, every change of the batch fails and neither the database nor the snapshot moves.
    private func commit(_ batch: [Change]) async -> [GroupCommit<Change>.Outcome] {
        do {
            return try await writer.writeWithoutTransaction { db in
                var original: [FunctionName: LambdaFunction?] = [:]
                var latest: [FunctionName: LambdaFunction?] = [:]
                var outcomes: [GroupCommit<Change>.Outcome] = []
                var deployments: [Deployment] = []
                var audit: [AuditEvent] = []
                var rows: [@Sendable (Database) throws -> Void] = []
                for change in batch {
                    var current: [FunctionName: LambdaFunction?] = [:]
                    for name in change.names { current[name] = .some(latest[name] ?? self.function(name)) }
                    do {
                        let (after, result) = try change.apply(current, ChangeContext(now: self.now(), makeRevisionId: self.makeRevisionId))
                        for name in change.names {
                            if original[name] == nil { original[name] = .some(current[name]!) }
                            latest[name] = .some(after[name] ?? nil)
                        }
                        if let deployment = change.deployment { deployments.append(deployment) }
                        rows += change.rows.map { [$0] } ?? []
                        let described =
                            change.audit.isEmpty
                            ? ""
                            : change.names.compactMap { name -> String? in
                                let text = AuditEvent.describe(before: current[name]!, after: after[name] ?? nil)
                                guard !text.isEmpty else { return nil }
                                return change.names.count == 1 ? text : "\(name): \(text)"
                            }.joined(separator: "; ")
                        audit += change.audit.map { event in
                            var event = event
                            if event.details["change"] == nil, !described.isEmpty { event.details["change"] = described }
                            return event
                        }
                        outcomes.append(.success(result))
                    } catch {
                        outcomes.append(.failure(error))
                    }
                }
                let changed = latest.filter { name, after in original[name]! != after }
                guard !changed.isEmpty || !deployments.isEmpty || !audit.isEmpty || !rows.isEmpty else { return outcomes }
                var head = self.auditHead.withLock { $0 }
                try db.inTransaction {
                    for (name, after) in changed { try Self.persist(before: original[name]!, after: after, in: db) }
                    for deployment in deployments { try DeploymentRow(deployment, coder: ColumnCoder()).save(db) }
                    for write in rows { try write(db) }
                    for event in audit { head = try head.append(event, in: db) }
                    return .commit
                }
                self.auditHead.withLock { $0 = head }
                self.snapshot.withLock { registry in
                    for (name, after) in changed { registry.functions[name] = after }
                }
                return outcomes
            }
        } catch {
            return batch.map { _ in .failure(error) }
        }
    }
}

extension RegistryStore {
    /// Writes the rows that differ between two states of one function.
    static func persist(before: LambdaFunction?, after: LambdaFunction?, in db: Database) throws {
        let coder = ColumnCoder()
        guard let after else {
            if let before { try FunctionRow.deleteOne(db, key: before.name.rawValue) }  // versions and aliases cascade
            return
        }
        let name = after.name
        if before?.latest != after.latest || before?.lastVersionNumber != after.lastVersionNumber
            || before?.tags != after.tags || before?.reservedConcurrency != after.reservedConcurrency
        {
            try FunctionRow(after, coder: coder).save(db)
        }
        let oldVersions = before?.versions ?? [:]
        for (number, version) in after.versions where oldVersions[number] != version {
            try VersionRow(version, of: name, coder: coder).save(db)
        }
        for number in oldVersions.keys where after.versions[number] == nil {
            try VersionRow.deleteOne(db, key: ["function": name.rawValue, "number": number.value])
        }
        let oldAliases = before?.aliases ?? [:]
        for (aliasName, alias) in after.aliases where oldAliases[aliasName] != alias {
            try AliasRow(alias, of: name).save(db)
        }
        for aliasName in oldAliases.keys where after.aliases[aliasName] == nil {
            try AliasRow.deleteOne(db, key: ["function": name.rawValue, "name": aliasName.rawValue])
        }
        let oldURLs = before?.urlConfigs ?? [:]
        for (alias, config) in after.urlConfigs where oldURLs[alias] != config {
            try FunctionURLRow(function: name.rawValue, alias: alias?.rawValue ?? "", config: coder.encode(config)).save(db)
        }
        for alias in oldURLs.keys where after.urlConfigs[alias] == nil {
            try FunctionURLRow.deleteOne(db, key: ["function": name.rawValue, "alias": alias?.rawValue ?? ""])
        }
        let oldEventConfigs = before?.eventInvokeConfigs ?? [:]
        for (qualifier, config) in after.eventInvokeConfigs where oldEventConfigs[qualifier] != config {
            try EventInvokeConfigRow(function: name.rawValue, qualifier: qualifier.description, config: coder.encode(config)).save(db)
        }
        for qualifier in oldEventConfigs.keys where after.eventInvokeConfigs[qualifier] == nil {
            try EventInvokeConfigRow.deleteOne(db, key: ["function": name.rawValue, "qualifier": qualifier.description])
        }
    }

    /// Reads the whole registry from the database (at startup).
    static func load(_ db: Database) throws -> Registry {
        let coder = ColumnCoder()
        var versions: [String: [VersionNumber: PublishedVersion]] = [:]
        for row in try VersionRow.fetchAll(db) {
            let version = try row.published(coder: coder)
            versions[row.function, default: [:]][version.number] = version
        }
        var aliases: [String: [AliasName: Alias]] = [:]
        for row in try AliasRow.fetchAll(db) {
            let alias = try row.alias()
            aliases[row.function, default: [:]][alias.name] = alias
        }
        var urls: [String: [AliasName?: FunctionURLConfig]] = [:]
        for row in try FunctionURLRow.fetchAll(db) {
            let alias = row.alias.isEmpty ? nil : AliasName(trusted: row.alias)
            urls[row.function, default: [:]][alias] = try coder.decode(FunctionURLConfig.self, from: row.config)
        }
        var eventConfigs: [String: [Qualifier: EventInvokeConfig]] = [:]
        for row in try EventInvokeConfigRow.fetchAll(db) {
            eventConfigs[row.function, default: [:]][try Qualifier(validating: row.qualifier)] =
                try coder.decode(EventInvokeConfig.self, from: row.config)
        }
        let functions = try FunctionRow.fetchAll(db).map { row in
            LambdaFunction(
                name: FunctionName(trusted: row.name),
                latest: try coder.decode(FunctionConfiguration.self, from: row.latest),
                versions: versions[row.name] ?? [:], aliases: aliases[row.name] ?? [:],
                lastVersionNumber: row.lastVersionNumber, tags: try coder.decode([String: String].self, from: row.tags),
                reservedConcurrency: row.reservedConcurrency, urlConfigs: urls[row.name] ?? [:],
                eventInvokeConfigs: eventConfigs[row.name] ?? [:])
        }
        return Registry(functions)
    }
}
