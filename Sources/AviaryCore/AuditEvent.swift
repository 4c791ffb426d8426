/// One change worth remembering: who did what to which function, alias or deployment, when, and from
/// which repository and build. The store appends it, hash-chained, in the same transaction as the
/// change itself, so no change is recorded without its entry and no entry without its change.
public struct AuditEvent: Sendable, Hashable, Codable {
    public var at: Timestamp
    /// Who: a person or key name, `anonymous` for an unauthenticated API call, `aviary` for the engine.
    public var actor: String
    /// The client's address, for API calls.
    public var source: String?
    /// `UpdateAlias`, `CreateFunction`, `deployment.started`, `deployment.rolledBack`, …
    public var action: String
    public var function: FunctionName?
    public var alias: AliasName?
    public var deployment: DeploymentID?
    public var repository: String?
    public var build: String?
    /// What changed, in words, plus any figures behind a decision.
    public var details: [String: String]

    public init(
        at: Timestamp, actor: String, source: String? = nil, action: String, function: FunctionName? = nil,
        alias: AliasName? = nil, deployment: DeploymentID? = nil, repository: String? = nil, build: String? = nil,
        details: [String: String] = [:]
    ) {
        self.at = at
        self.actor = actor
        self.source = source
        self.action = action
        self.function = function
        self.alias = alias
        self.deployment = deployment
        self.repository = repository
        self.build = build
        self.details = details
    }
}

extension AuditEvent {
    /// What a change did to one function, in words: `alias live: 1 → 2`, `published version 4`, …
    public static func describe(before: LambdaFunction?, after: LambdaFunction?) -> String {
        guard let after else { return before == nil ? "" : "deleted function \(before!.name)" }
        guard let before else {
            return "created function \(after.name)" + (after.versions.isEmpty ? "" : " with version \(after.versions.keys.max()!)")
        }
        var changes: [String] = []
        if before.latest.code != after.latest.code { changes.append("code updated (\(after.latest.code.sha256))") }
        var beforeSettings = before.latest
        beforeSettings.code = after.latest.code
        beforeSettings.revisionId = after.latest.revisionId
        beforeSettings.lastModified = after.latest.lastModified
        if beforeSettings != after.latest { changes.append("configuration updated") }
        for number in after.versions.keys.sorted() where before.versions[number] == nil { changes.append("published version \(number)") }
        for number in before.versions.keys.sorted() where after.versions[number] == nil { changes.append("deleted version \(number)") }
        for name in Set(before.aliases.keys).union(after.aliases.keys).sorted() {
            switch (before.aliases[name], after.aliases[name]) {
            case (nil, let created?): changes.append("created alias \(name) → \(render(created))")
            case (_?, nil): changes.append("deleted alias \(name)")
            case (let old?, let new?):
                var parts: [String] = []
                if render(old) != render(new) { parts.append("\(render(old)) → \(render(new))") }
                if old.description != new.description { parts.append("description \"\(new.description)\"") }
                if old.sticky != new.sticky { parts.append("sticky routing \(new.sticky?.description ?? "off")") }
                if !parts.isEmpty { changes.append("alias \(name): " + parts.joined(separator: ", ")) }
            case (nil, nil): break
            }
        }
        if before.reservedConcurrency != after.reservedConcurrency {
            changes.append("reserved concurrency: \(before.reservedConcurrency.map(String.init) ?? "none") → \(after.reservedConcurrency.map(String.init) ?? "none")")
        }
        return changes.joined(separator: "; ")
    }

    static func render(_ alias: Alias) -> String {
        "\(alias.functionVersion)" + (alias.routing.map { " + \($0.additionalVersion) at \($0.weight)" } ?? "")
    }
}
