import AviaryCore

/// The alias changes a deployment's effect asks for (one per target: a release moves several aliases
/// in one transaction), checked against what the deployment left each alias at: if someone else moved
/// an alias in between, the engine does not overwrite their change.
struct AliasMove: Sendable {
    enum Kind: Sendable {
        case route(Weight)
        case promote
        case revert
    }

    let deployment: Deployment
    let kind: Kind

    /// The first alias effect in `effects`, if any (a transition has at most one).
    init?(_ deployment: Deployment, _ effects: [DeploymentEffect]) {
        for effect in effects {
            switch effect {
            case .route(let weight): self.init(deployment: deployment, kind: .route(weight)); return
            case .promote: self.init(deployment: deployment, kind: .promote); return
            case .revert: self.init(deployment: deployment, kind: .revert); return
            case .prewarm, .invokeHook: continue
            }
        }
        return nil
    }

    init(deployment: Deployment, kind: Kind) {
        self.deployment = deployment
        self.kind = kind
    }

    /// Applies the move to one target's function through the same rule UpdateAlias uses.
    func apply(to function: inout LambdaFunction, target: DeploymentTarget, scope: AccountScope, context: ChangeContext) throws {
        let from = VersionSelector.published(target.fromVersion)
        let to = VersionSelector.published(target.toVersion)
        if let gone = target.vanished(from: function) { throw AliasDiverged(gone) }
        guard let alias = function.aliases[target.alias] else { throw AliasDiverged("alias \(target.alias) was deleted") }
        // Where this deployment can have left the alias: on the old version (with or without the new one
        // weighted in) or, once promoted, on the new one.
        let routingOK = alias.routing == nil || alias.routing?.additionalVersion == target.toVersion
        let ours = (alias.functionVersion == from && routingOK) || (alias.functionVersion == to && alias.routing == nil)
        guard ours else {
            throw AliasDiverged(
                "alias \(target.function):\(target.alias) was changed outside the deployment "
                    + "(now \(alias.functionVersion)\(alias.routing.map { " + \($0.additionalVersion) at \($0.weight)" } ?? "")); left as it is")
        }
        let (primary, weights): (VersionSelector, [String: Double]) =
            switch kind {
            case .route(let weight): (from, [target.toVersion.description: weight.value])
            case .promote: (to, [:])
            case .revert: (from, [:])
            }
        do {
            _ = try function.updateAlias(
                name: target.alias, functionVersion: primary.description, description: nil, weights: weights,
                expectedRevisionId: nil, scope: scope, context: context)
        } catch {
            throw AliasDiverged("alias \(target.function):\(target.alias) cannot be moved: \(error.message)")
        }
    }
}

/// The alias is no longer where the deployment left it (or cannot be moved at all).
struct AliasDiverged: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension DeploymentTarget {
    /// Why the target's function, alias or versions are no longer there (deleted, or deleted and created
    /// again under the same name); nil while they are.
    func vanished(from function: LambdaFunction?) -> String? {
        guard let function else { return "function \(self.function) was deleted" }
        guard function.aliases[alias] != nil else { return "alias \(self.function):\(alias) was deleted" }
        for (number, revision) in [(fromVersion, fromRevisionId), (toVersion, toRevisionId)] {
            guard let version = function.versions[number] else { return "version \(number) of \(self.function) was deleted" }
            if let revision, version.configuration.revisionId != revision {
                return "\(self.function) was deleted and created again: its version \(number) is not the one deployed"
            }
        }
        return nil
    }
}

extension Deployment {
    /// Why one of the deployment's targets is no longer there; nil while all are.
    func vanished(from registry: (FunctionName) -> LambdaFunction?) -> String? {
        for target in targets {
            if let gone = target.vanished(from: registry(target.function)) { return gone }
        }
        return nil
    }
}
