public import AviaryCore
public import Foundation
import GRDB
import Synchronization

/// The durable registry: SQLite holds every function, version and alias; an in-memory `Registry`
/// snapshot answers every read without touching the database.
///
/// Writes run one at a time on GRDB's writer: the closure computes the new state of one function with
/// the pure rules of `AviaryCore`, the differences are written in one transaction, and only after the
/// commit does the snapshot change. A failed write changes neither.
public final class RegistryStore: Sendable {
    private let writer: any DatabaseWriter
    private let snapshot: Mutex<Registry>
    private let now: @Sendable () -> Timestamp
    private let makeRevisionId: @Sendable () -> String

    /// Opens (creating if needed) the database at `path` in WAL mode and loads the snapshot.
    public static func open(
        path: String, now: @escaping @Sendable () -> Timestamp = RegistryStore.systemNow,
        makeRevisionId: @escaping @Sendable () -> String = RegistryStore.randomRevisionId
    ) throws -> RegistryStore {
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        let pool = try DatabasePool(path: path, configuration: configuration)
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
        _ name: FunctionName,
        _ make: @escaping @Sendable (ChangeContext) throws -> (LambdaFunction, Result)
    ) async throws -> Result {
        try await write { db, context in
            guard self.function(name) == nil else {
                throw LambdaError.resourceConflict("Function already exist: \(name)")
            }
            let (function, result) = try make(context)
            return (nil, function, result)
        }
    }

    /// Changes one function with `body`; the function's 404 if it does not exist.
    public func update<Result: Sendable>(
        _ name: FunctionName, scope: AccountScope,
        _ body: @escaping @Sendable (inout LambdaFunction, ChangeContext) throws -> Result
    ) async throws -> Result {
        try await write { db, context in
            guard let before = self.function(name) else { throw LambdaError.functionNotFound(scope.functionARN(name)) }
            var after = before
            let result = try body(&after, context)
            return (before, after, result)
        }
    }

    /// Removes a function with all its versions and aliases; the function's 404 if it does not exist.
    public func delete(_ name: FunctionName, scope: AccountScope) async throws {
        try await write { db, context in
            guard let before = self.function(name) else { throw LambdaError.functionNotFound(scope.functionARN(name)) }
            return (before, nil, ())
        }
    }

    /// Runs one serialized write: `change` returns the function before and after; differences are
    /// committed in one transaction, then published to the snapshot.
    private func write<Result: Sendable>(
        _ change: @escaping @Sendable (Database, ChangeContext) throws -> (LambdaFunction?, LambdaFunction?, Result)
    ) async throws -> Result {
        try await writer.writeWithoutTransaction { db in
            let context = ChangeContext(now: self.now(), makeRevisionId: self.makeRevisionId)
            let (before, after, result) = try change(db, context)
            guard before != after else { return result }
            try db.inTransaction {
                try Self.persist(before: before, after: after, in: db)
                return .commit
            }
            self.snapshot.withLock { registry in
                if let after {
                    registry.functions[after.name] = after
                } else if let before {
                    registry.functions[before.name] = nil
                }
            }
            return result
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
            || before?.tags != after.tags
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
        let functions = try FunctionRow.fetchAll(db).map { row in
            LambdaFunction(
                name: FunctionName(trusted: row.name),
                latest: try coder.decode(FunctionConfiguration.self, from: row.latest),
                versions: versions[row.name] ?? [:], aliases: aliases[row.name] ?? [:],
                lastVersionNumber: row.lastVersionNumber, tags: try coder.decode([String: String].self, from: row.tags))
        }
        return Registry(functions)
    }
}
