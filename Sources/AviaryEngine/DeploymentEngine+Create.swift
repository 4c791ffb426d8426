import AviaryCore
import AviaryStore
import Logging
import Synchronization

extension DeploymentEngine {
    /// Checks a request against the registry and the deployments in flight, then persists the new
    /// deployment (or release) and starts watching it. Runs on the serial queue, so "one per alias"
    /// cannot race.
    func create(_ request: DeploymentRequest, retryOf: DeploymentID?) async throws -> Deployment {
        let lead = try target(request.function, request.alias, to: request.toVersion, expecting: request.fromVersion)
        var release: ReleaseInfo?
        if let releaseRequest = request.release {
            release = try await releaseInfo(releaseRequest, lead: lead)
        }
        for target in [request.hooks.preTraffic, request.hooks.postTraffic].compactMap({ $0 }) {
            guard let hookFunction = store.function(target.function) else {
                throw DeploymentError.notFound("hook function \(target.function) does not exist")
            }
            if let qualifier = target.qualifier {
                let parsed: Qualifier
                do { parsed = try Qualifier(validating: qualifier) } catch {
                    throw DeploymentError.invalidRequest("hook \(target): \(error.message)")
                }
                do { _ = try hookFunction.resolve(parsed, scope: scope) } catch {
                    throw DeploymentError.notFound("hook \(target) does not exist")
                }
            }
        }
        guard (0...100).contains(request.prewarm) else { throw DeploymentError.invalidRequest("prewarm must be between 0 and 100") }
        guard request.bakeMilliseconds >= 0 else { throw DeploymentError.invalidRequest("the bake time cannot be negative") }
        guard request.hooks.timeoutMilliseconds >= 1000 else { throw DeploymentError.invalidRequest("the hook timeout must be at least 1s") }
        guard request.description.count <= 1024 else { throw DeploymentError.invalidRequest("the description is longer than 1024 characters") }
        let gate = try request.gate?.validated()
        guard request.notify.count <= 20 else { throw DeploymentError.invalidRequest("a deployment has at most 20 notification targets") }
        guard request.metadata.count <= 50, request.metadata.allSatisfy({ $0.key.count <= 128 && $0.value.count <= 1024 }) else {
            throw DeploymentError.invalidRequest("metadata holds at most 50 entries, keys up to 128 and values up to 1024 characters")
        }

        var generator = SystemRandomNumberGenerator()
        let deployment = Deployment(
            id: DeploymentID.random(using: &generator), function: lead.function, alias: lead.alias,
            fromVersion: lead.fromVersion, toVersion: lead.toVersion, strategy: request.strategy, health: request.health,
            hooks: request.hooks, prewarm: request.prewarm, bakeMilliseconds: request.bakeMilliseconds,
            description: request.description, metadata: request.metadata, createdAt: now(), createdBy: request.actor, reason: request.reason,
            retryOf: retryOf, fromRevisionId: lead.fromRevisionId, toRevisionId: lead.toRevisionId, gate: gate, notify: request.notify,
            release: release)
        try await store.save(deployment, scope: scope, audit: Self.auditEvents(deployment, since: nil))
        track(deployment)
        logger.info(release == nil ? "deployment created" : "release created", metadata: metadata(deployment))
        announce(deployment, since: nil)
        return deployment
    }

    /// One alias to move: it exists, points to a published version (the one expected, if any) without
    /// routing, no deployment is moving it, and the new version exists, differs and shares its role.
    func target(
        _ name: FunctionName, _ aliasName: AliasName, to toVersion: VersionNumber, expecting expected: VersionNumber? = nil,
        health: HealthPolicy? = nil
    ) throws -> DeploymentTarget {
        if let active = watched.withLock({ $0.byAlias[AliasKey(function: name, alias: aliasName)] }) {
            throw DeploymentError.alreadyActive(active, function: name, alias: aliasName)
        }
        guard let function = store.function(name) else {
            throw DeploymentError.notFound("function \(name) does not exist")
        }
        guard let alias = function.aliases[aliasName] else {
            throw DeploymentError.notFound("alias \(name):\(aliasName) does not exist; create it first (aws lambda create-alias)")
        }
        guard case .published(let current) = alias.functionVersion else {
            throw DeploymentError.aliasNotReady(
                "alias \(name):\(aliasName) points to $LATEST, which cannot share traffic; point it to a published version first")
        }
        guard alias.routing == nil else {
            throw DeploymentError.aliasNotReady(
                "alias \(name):\(aliasName) already splits traffic (version \(alias.routing!.additionalVersion) at "
                    + "\(alias.routing!.weight)); clear its routing config before deploying")
        }
        if let expected, expected != current {
            throw DeploymentError.aliasNotReady("alias \(name):\(aliasName) points to version \(current), not \(expected)")
        }
        guard let to = function.versions[toVersion] else {
            throw DeploymentError.notFound("version \(toVersion) of \(name) does not exist; publish it first")
        }
        guard toVersion != current else {
            throw DeploymentError.aliasNotReady("alias \(name):\(aliasName) already points to version \(current)")
        }
        let from = function.versions[current]
        if let from, from.configuration.role != to.configuration.role {
            throw DeploymentError.invalidRequest("versions \(current) and \(toVersion) of \(name) must have the same execution role to share an alias")
        }
        return DeploymentTarget(
            function: name, alias: aliasName, fromVersion: current, toVersion: toVersion, fromRevisionId: from?.configuration.revisionId,
            toRevisionId: to.configuration.revisionId, health: health)
    }

    /// A release's members checked like a deployment's alias, its number, and its manifest.
    private func releaseInfo(_ request: ReleaseRequest, lead: DeploymentTarget) async throws -> ReleaseInfo {
        try ReleaseInfo.validateApplication(request.application)
        guard request.members.count + request.unchanged.count < 1000 else {
            throw DeploymentError.invalidRequest("a release holds at most 1000 functions")
        }
        var seen: Set<FunctionName> = [lead.function]
        var members: [DeploymentTarget] = []
        for member in request.members {
            guard seen.insert(member.function).inserted else {
                throw DeploymentError.invalidRequest("function \(member.function) appears twice in the release")
            }
            members.append(try target(member.function, member.alias, to: member.toVersion, health: member.health))
        }
        for entry in request.unchanged {
            guard seen.insert(entry.function).inserted else {
                throw DeploymentError.invalidRequest("function \(entry.function) appears twice in the release")
            }
            guard store.function(entry.function)?.versions[entry.version] != nil else {
                throw DeploymentError.notFound("version \(entry.version) of \(entry.function) does not exist")
            }
        }
        let number = try await store.lastReleaseNumber(application: request.application) + 1
        let manifest = ([lead] + members).map { ManifestEntry(function: $0.function, alias: $0.alias, version: $0.toVersion) } + request.unchanged
        return ReleaseInfo(
            application: request.application, number: number, members: members,
            manifest: manifest.sorted { $0.function.rawValue < $1.function.rawValue }, leadHealth: request.leadHealth)
    }
}
