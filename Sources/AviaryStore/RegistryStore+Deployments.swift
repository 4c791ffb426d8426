public import AviaryCore
import GRDB

extension RegistryStore {
    /// Saves a deployment's new state and, in the same transaction, applies `change` to its function (the
    /// alias move the transition implies). If `change` throws, nothing is written and the error is rethrown.
    public func save(
        _ deployment: Deployment, scope: AccountScope, audit: [AuditEvent] = [],
        changing change: (@Sendable (inout LambdaFunction, ChangeContext) throws -> Void)? = nil
    ) async throws {
        try await write(deployment.function, saving: deployment, audit: audit) { current, context in
            guard let change else { return (current, ()) }
            guard var function = current else {
                throw LambdaError.functionNotFound(scope.functionARN(deployment.function))
            }
            try change(&function, context)
            return (function, ())
        }
    }

    /// Saves a deployment's new state and, in the same transaction, applies a change to each of several
    /// functions (a release moving its aliases): all or nothing.
    public func save(
        _ deployment: Deployment, scope: AccountScope, audit: [AuditEvent] = [],
        changingEach changes: [FunctionName: @Sendable (inout LambdaFunction, ChangeContext) throws -> Void]
    ) async throws {
        let names = changes.keys.sorted { $0.rawValue < $1.rawValue }
        try await write(names, saving: deployment, audit: audit) { current, context in
            var after = current
            for name in names {
                guard var function = current[name] ?? nil else { throw LambdaError.functionNotFound(scope.functionARN(name)) }
                try changes[name]!(&function, context)
                after[name] = .some(function)
            }
            return (after, ())
        }
    }

    /// An application's releases, newest first; `before` is the last number of the previous page.
    public func releases(application: String, before: Int? = nil, limit: Int = 50) async throws -> [Deployment] {
        try await writer.read { db in
            var request = DeploymentRow.filter(Column("application") == application)
            if let before { request = request.filter(Column("releaseNumber") < before) }
            let coder = ColumnCoder()
            return try request.order(Column("releaseNumber").desc).limit(limit).fetchAll(db).map { try $0.deployment(coder: coder) }
        }
    }

    /// Release `number` of an application.
    public func release(application: String, number: Int) async throws -> Deployment? {
        try await writer.read { db in
            try DeploymentRow.filter(Column("application") == application && Column("releaseNumber") == number).fetchOne(db)
                .map { try $0.deployment(coder: ColumnCoder()) }
        }
    }

    /// The highest release number of an application (0 before its first release).
    public func lastReleaseNumber(application: String) async throws -> Int {
        try await writer.read { db in
            try Int.fetchOne(db, sql: "SELECT MAX(releaseNumber) FROM deployment WHERE application = ?", arguments: [application]) ?? 0
        }
    }

    /// One deployment, from the database.
    public func deployment(_ id: DeploymentID) async throws -> Deployment? {
        try await writer.read { db in
            try DeploymentRow.fetchOne(db, key: id.rawValue).map { try $0.deployment(coder: ColumnCoder()) }
        }
    }

    /// Deployments newest first, optionally of one function (and alias), only active ones, and only
    /// those listed after `after` (the last one of the previous page).
    public func deployments(
        function: FunctionName? = nil, alias: AliasName? = nil, activeOnly: Bool = false, after: Deployment? = nil,
        limit: Int = 50
    ) async throws -> [Deployment] {
        try await writer.read { db in
            var request = DeploymentRow.all()
            if let function { request = request.filter(Column("function") == function.rawValue) }
            if let alias { request = request.filter(Column("alias") == alias.rawValue) }
            if activeOnly { request = request.filter(Column("active") == true) }
            if let after {
                let created = after.createdAt.millisecondsSince1970
                request = request.filter(
                    Column("createdAt") < created || (Column("createdAt") == created && Column("id") < after.id.rawValue))
            }
            let coder = ColumnCoder()
            return try request.order(Column("createdAt").desc, Column("id").desc).limit(limit).fetchAll(db)
                .map { try $0.deployment(coder: coder) }
        }
    }
}

/// One row of `deployment`: the whole record as JSON, plus the columns it is looked up by.
struct DeploymentRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "deployment"
    var id: String
    var function: String
    var alias: String
    var status: String
    var active: Bool
    var createdAt: Int64
    var updatedAt: Int64
    var body: String
    var application: String?
    var releaseNumber: Int?

    init(_ deployment: Deployment, coder: ColumnCoder) throws {
        application = deployment.release?.application
        releaseNumber = deployment.release?.number
        id = deployment.id.rawValue
        function = deployment.function.rawValue
        alias = deployment.alias.rawValue
        status = deployment.status.rawValue
        active = deployment.isActive
        createdAt = deployment.createdAt.millisecondsSince1970
        updatedAt = deployment.updatedAt.millisecondsSince1970
        body = try coder.encode(deployment)
    }

    func deployment(coder: ColumnCoder) throws -> Deployment {
        try coder.decode(Deployment.self, from: body)
    }
}
