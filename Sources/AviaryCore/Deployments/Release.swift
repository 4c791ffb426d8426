/// One alias a deployment moves from one version to another. A deployment moves one; a release moves
/// every changed function of an application in lockstep, as one deployment.
public struct DeploymentTarget: Sendable, Hashable, Codable, CustomStringConvertible {
    public let function: FunctionName
    public let alias: AliasName
    public let fromVersion: VersionNumber
    public let toVersion: VersionNumber
    /// The RevisionIds of both versions when the deployment began (see `Deployment`).
    public let fromRevisionId: String?
    public let toRevisionId: String?
    /// This function's own health policy within a release; nil: the deployment's.
    public let health: HealthPolicy?

    public init(
        function: FunctionName, alias: AliasName, fromVersion: VersionNumber, toVersion: VersionNumber,
        fromRevisionId: String? = nil, toRevisionId: String? = nil, health: HealthPolicy? = nil
    ) {
        self.function = function
        self.alias = alias
        self.fromVersion = fromVersion
        self.toVersion = toVersion
        self.fromRevisionId = fromRevisionId
        self.toRevisionId = toRevisionId
        self.health = health
    }

    public var description: String { "\(function):\(alias) \(fromVersion) → \(toVersion)" }
}

/// What makes a deployment a release of an application: its number, the other aliases it moves, and
/// the application's manifest once it succeeds.
public struct ReleaseInfo: Sendable, Hashable, Codable {
    public let application: String
    /// 1, 2, 3… per application.
    public let number: Int
    /// The aliases moved besides the deployment's own `function`/`alias`.
    public let members: [DeploymentTarget]
    /// Every function of the application and the version its alias points to once the release has
    /// succeeded, unchanged functions included: what `rollback --to` restores.
    public let manifest: [ManifestEntry]
    /// The deployment's own function's health policy within the release, if it has one of its own.
    public let leadHealth: HealthPolicy?

    public init(application: String, number: Int, members: [DeploymentTarget], manifest: [ManifestEntry], leadHealth: HealthPolicy? = nil) {
        self.application = application
        self.number = number
        self.members = members
        self.manifest = manifest
        self.leadHealth = leadHealth
    }

    /// Checks an application's name: 1 to 64 letters, digits, `-` or `_`, starting with a letter.
    public static func validateApplication(_ name: String) throws(DeploymentError) {
        guard (1...64).contains(name.count), name.first!.isASCIILetter,
            name.allSatisfy({ $0.isASCIILetter || $0.isASCIIDigit || $0 == "-" || $0 == "_" })
        else {
            throw .invalidRequest("an application name is 1 to 64 letters, digits, - or _, starting with a letter; not '\(name)'")
        }
    }
}

/// One line of a release's manifest.
public struct ManifestEntry: Sendable, Hashable, Codable, CustomStringConvertible {
    public let function: FunctionName
    public let alias: AliasName
    public let version: VersionNumber

    public init(function: FunctionName, alias: AliasName, version: VersionNumber) {
        self.function = function
        self.alias = alias
        self.version = version
    }

    public var description: String { "\(function):\(alias) → \(version)" }
}

extension Deployment {
    /// Every alias the deployment moves: its own, then a release's other members.
    public var targets: [DeploymentTarget] {
        [
            DeploymentTarget(
                function: function, alias: alias, fromVersion: fromVersion, toVersion: toVersion, fromRevisionId: fromRevisionId,
                toRevisionId: toRevisionId, health: release?.leadHealth)
        ] + (release?.members ?? [])
    }

    /// How history messages name what moves: `version 2`, or `3 functions` for a release.
    var newSide: String { release.map { "the new versions of \($0.members.count + 1) functions" } ?? "version \(toVersion)" }
    var oldSide: String { release.map { "the previous versions of \($0.members.count + 1) functions" } ?? "version \(fromVersion)" }
}

extension Deployment {
    /// The record of putting an application back on an earlier release's manifest at once, without
    /// analysis: a release that is over as soon as it is written (with the alias moves, in one
    /// transaction). `moves` are the aliases that change; there is at least one.
    public static func restoration(
        id: DeploymentID, application: String, number: Int, restoring earlier: Int, moves: [DeploymentTarget],
        manifest: [ManifestEntry], at now: Timestamp, by actor: String?, reason: String?
    ) -> Deployment {
        let lead = moves[0]
        var deployment = Deployment(
            id: id, function: lead.function, alias: lead.alias, fromVersion: lead.fromVersion, toVersion: lead.toVersion,
            strategy: .allAtOnce, prewarm: 0, description: "rollback to release \(earlier)", createdAt: now, createdBy: actor,
            reason: reason, fromRevisionId: lead.fromRevisionId, toRevisionId: lead.toRevisionId,
            release: ReleaseInfo(application: application, number: number, members: Array(moves.dropFirst()), manifest: manifest))
        deployment.status = .succeeded
        deployment.weight = 1
        let message = "restored release \(earlier) of \(application): " + moves.map(\.description).joined(separator: ", ")
        deployment.outcome = Outcome(cause: .restored, message: message, at: now, by: actor, report: nil)
        deployment.history.append(HistoryEntry(at: now, status: .succeeded, message: message, by: actor, event: "restored"))
        return deployment
    }
}

extension Deployment {
    /// The record of an application's state that no gradual deployment produced (its first deploy, a
    /// function added, an alias moved at once): a release over as soon as it is written, so that
    /// `rollback --to` can return to it.
    public static func recording(
        id: DeploymentID, application: String, number: Int, manifest: [ManifestEntry], note: String, at now: Timestamp, by actor: String?
    ) -> Deployment {
        let lead = manifest[0]
        var deployment = Deployment(
            id: id, function: lead.function, alias: lead.alias, fromVersion: lead.version, toVersion: lead.version,
            strategy: .allAtOnce, prewarm: 0, description: note, createdAt: now, createdBy: actor,
            release: ReleaseInfo(application: application, number: number, members: [], manifest: manifest))
        deployment.status = .succeeded
        deployment.weight = 1
        let message = "recorded release \(number) of \(application): \(note)"
        deployment.outcome = Outcome(cause: .recorded, message: message, at: now, by: actor, report: nil)
        deployment.history.append(HistoryEntry(at: now, status: .succeeded, message: message, by: actor, event: "recorded"))
        return deployment
    }
}
