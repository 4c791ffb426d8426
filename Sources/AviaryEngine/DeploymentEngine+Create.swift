import AviaryCore
import AviaryStore
import Logging
import Synchronization

extension DeploymentEngine {
    /// Checks a request against the registry and the deployments in flight, then persists the new
    /// deployment and starts watching it. Runs on the serial queue, so "one per alias" cannot race.
    func create(_ request: DeploymentRequest, retryOf: DeploymentID?) async throws -> Deployment {
        let key = AliasKey(function: request.function, alias: request.alias)
        if let active = watched.withLock({ $0.byAlias[key] }) {
            throw DeploymentError.alreadyActive(active, function: request.function, alias: request.alias)
        }
        guard let function = store.function(request.function) else {
            throw DeploymentError.notFound("function \(request.function) does not exist")
        }
        guard let alias = function.aliases[request.alias] else {
            throw DeploymentError.notFound("alias \(request.function):\(request.alias) does not exist; create it first (aws lambda create-alias)")
        }
        guard case .published(let current) = alias.functionVersion else {
            throw DeploymentError.aliasNotReady(
                "alias \(request.function):\(request.alias) points to $LATEST, which cannot share traffic; point it to a published version first")
        }
        guard alias.routing == nil else {
            throw DeploymentError.aliasNotReady(
                "alias \(request.function):\(request.alias) already splits traffic (version \(alias.routing!.additionalVersion) at "
                    + "\(alias.routing!.weight)); clear its routing config before deploying")
        }
        if let expected = request.fromVersion, expected != current {
            throw DeploymentError.aliasNotReady(
                "alias \(request.function):\(request.alias) points to version \(current), not \(expected)")
        }
        guard function.versions[request.toVersion] != nil else {
            throw DeploymentError.notFound("version \(request.toVersion) of \(request.function) does not exist; publish it first")
        }
        guard request.toVersion != current else {
            throw DeploymentError.aliasNotReady("alias \(request.function):\(request.alias) already points to version \(current)")
        }
        if let from = function.versions[current], let to = function.versions[request.toVersion],
            from.configuration.role != to.configuration.role
        {
            throw DeploymentError.invalidRequest("versions \(current) and \(request.toVersion) must have the same execution role to share an alias")
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
            id: DeploymentID.random(using: &generator), function: request.function, alias: request.alias,
            fromVersion: current, toVersion: request.toVersion, strategy: request.strategy, health: request.health,
            hooks: request.hooks, prewarm: request.prewarm, bakeMilliseconds: request.bakeMilliseconds,
            description: request.description, metadata: request.metadata, createdAt: now(), createdBy: request.actor, reason: request.reason,
            retryOf: retryOf, fromRevisionId: function.versions[current]?.configuration.revisionId,
            toRevisionId: function.versions[request.toVersion]?.configuration.revisionId, gate: gate, notify: request.notify)
        try await store.save(deployment, scope: scope, audit: Self.auditEvents(deployment, since: nil))
        track(deployment)
        logger.info("deployment created", metadata: metadata(deployment))
        announce(deployment, since: nil)
        return deployment
    }
}
