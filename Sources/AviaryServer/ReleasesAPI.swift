import AviaryCore
public import AviaryEngine
public import AviaryStore
import Foundation
public import Hummingbird

/// Releases of applications: `POST /v1/releases` moves every changed function of an application as
/// one deployment; `GET /v1/applications/{app}/releases` lists them; `POST
/// /v1/applications/{app}/rollback` puts every alias back on an earlier release at once.
public struct ReleasesAPI: Sendable {
    let engine: DeploymentEngine
    let store: RegistryStore
    let deployments: DeploymentsAPI

    public init(engine: DeploymentEngine, store: RegistryStore) {
        self.engine = engine
        self.store = store
        deployments = DeploymentsAPI(engine: engine, store: store)
    }

    public func addRoutes(to router: Router<LambdaRequestContext>) {
        router.post("v1/releases") { request, context in try await self.create(request, context) }
        router.get("v1/applications/:application/releases") { request, context in try await self.list(request, context) }
        router.post("v1/applications/:application/rollback") { request, context in try await self.rollback(request, context) }
    }

    func create(_ request: Request, _ context: LambdaRequestContext) async throws -> Response {
        let wire = try await decodeAviaryBody(CreateReleaseWire.self, of: request)
        try ReleaseInfo.validateApplication(wire.application)
        guard !wire.functions.isEmpty else {
            // Nothing to move: the application's state (its first deploy, say) is recorded as a release
            // if it differs from the last one, so that rollback --to can return to it.
            let manifest = try (wire.unchanged ?? []).map { entry in
                let (function, alias, version) = try DeploymentsAPI.target(entry.function, entry.alias, entry.version)
                return ManifestEntry(function: function, alias: alias, version: version)
            }
            let note = wire.settings.description ?? "\(manifest.count) function\(manifest.count == 1 ? "" : "s") as deployed"
            guard let recorded = try await engine.recordRelease(wire.application, manifest: manifest, note: note, by: context.principal ?? wire.settings.actor) else {
                return try aviaryJSON(["message": "\(wire.application) is as its last release records it; nothing recorded"])
            }
            return try aviaryJSON(deployments.wire(recorded, live: nil), status: .created)
        }
        var members: [ReleaseRequest.Member] = []
        for member in wire.functions {
            let (function, alias, version) = try DeploymentsAPI.target(member.function, member.alias, member.targetVersion)
            let health = try member.rules.map { rules in
                let release = try DeploymentsAPI.deploymentRequest(wire.settings, function: function, alias: alias, toVersion: version, fromVersion: nil).health
                return try HealthPolicy(
                    rules: rules.map { try HealthRule.parse($0) }, comparison: release.comparison,
                    minimumInvocations: release.minimumInvocations, noData: release.noData)
            }
            members.append(ReleaseRequest.Member(function: function, alias: alias, toVersion: version, health: health))
        }
        members.sort { $0.function.rawValue < $1.function.rawValue }
        let unchanged = try (wire.unchanged ?? []).map { entry in
            let (function, alias, version) = try DeploymentsAPI.target(entry.function, entry.alias, entry.version)
            return ManifestEntry(function: function, alias: alias, version: version)
        }
        let lead = members.removeFirst()
        var deploymentRequest = try DeploymentsAPI.deploymentRequest(
            wire.settings, function: lead.function, alias: lead.alias, toVersion: lead.toVersion, fromVersion: nil)
        if let principal = context.principal { deploymentRequest.actor = principal }
        deploymentRequest.release = ReleaseRequest(
            application: wire.application, members: members, unchanged: unchanged, leadHealth: lead.health)
        try await deployments.applyPolicy(wire.settings, to: &deploymentRequest)
        let release = try await engine.startRelease(deploymentRequest)
        return try aviaryJSON(deployments.wire(release, live: nil), status: .created)
    }

    func list(_ request: Request, _ context: LambdaRequestContext) async throws -> Response {
        let application = try context.parameters.require("application")
        try ReleaseInfo.validateApplication(application)
        let query = request.uri.queryParameters
        let limitText = query.get("limit") ?? "50"
        guard let limit = Int(limitText), (1...200).contains(limit) else {
            throw DeploymentError.invalidRequest("limit is a number from 1 to 200, not \(limitText)")
        }
        let before = try query.get("marker").map { text in
            guard let number = Int(text), number > 0 else { throw DeploymentError.invalidRequest("invalid marker \(text)") }
            return number
        }
        let page = try await store.releases(application: application, before: before, limit: limit + 1)
        let live = engine.liveReports()
        let shown = page.prefix(limit)
        return try aviaryJSON(ReleaseListWire(
            releases: shown.map { deployments.wire($0, live: live[$0.id]) },
            nextMarker: page.count > limit ? shown.last?.release.map { String($0.number) } : nil))
    }

    func rollback(_ request: Request, _ context: LambdaRequestContext) async throws -> Response {
        let application = try context.parameters.require("application")
        let body = try await decodeAviaryBody(RestoreWire.self, of: request)
        guard let number = body.to, number > 0 else {
            throw DeploymentError.invalidRequest("name the release to go back to: {\"to\": <release number>}")
        }
        let actor = context.principal ?? body.actor
        let restored = try await engine.restore(application, to: number, by: actor, reason: body.reason)
        return try aviaryJSON(RestoreResultWire(
            restored: restored != nil,
            message: restored?.outcome?.message ?? "every alias of \(application) already points to release \(number)'s versions",
            release: restored.map { deployments.wire($0, live: nil) }))
    }
}

struct ReleaseListWire: Encodable {
    var releases: [DeploymentWire]
    var nextMarker: String?
}

struct RestoreWire: Decodable {
    var to: Int?
    var actor: String?
    var reason: String?
}

struct RestoreResultWire: Encodable {
    var restored: Bool
    var message: String
    var release: DeploymentWire?
}
