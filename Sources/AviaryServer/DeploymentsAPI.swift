import AviaryCore
public import AviaryEngine
public import AviaryStore
import Foundation
import HTTPTypes
public import Hummingbird
import NIOCore
import NIOFoundationCompat

/// Aviary's own deployment API: `/v1/deployments` (described by `/v1/openapi.json`), and CodeDeploy's
/// `PutLifecycleEventHookExecutionStatus` so hooks written for CodeDeploy report back unchanged.
public struct DeploymentsAPI: Sendable {
    let engine: DeploymentEngine
    let store: RegistryStore

    public init(engine: DeploymentEngine, store: RegistryStore) {
        self.engine = engine
        self.store = store
    }

    public func addRoutes(to router: Router<LambdaRequestContext>) {
        let deployments = router.group("v1/deployments")
        deployments.post(use: create)
        deployments.get(use: list)
        deployments.get(":id", use: get)
        for action in ["promote", "pause", "resume", "rollback", "retry", "approve"] {
            deployments.post(":id/\(action)") { request, context in try await self.act(action, request, context) }
        }
        deployments.post(":id/hooks/:execution", use: reportHook)
        router.get("v1/openapi.json") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(bytes: PackageResources.openapi_json)))
        }
        router.post("/", use: codeDeploy)
    }

    // MARK: Handlers

    @Sendable func create(_ request: Request, context: LambdaRequestContext) async throws -> Response {
        let wire = try await decodeAviaryBody(CreateDeploymentWire.self, of: request)
        var deploymentRequest = try Self.deploymentRequest(wire)
        if let principal = context.principal { deploymentRequest.actor = principal }
        try await applyPolicy(wire.settings, to: &deploymentRequest)
        let deployment = try await engine.start(deploymentRequest)
        return try aviaryJSON(self.wire(deployment, live: nil), status: .created)
    }

    @Sendable func list(_ request: Request, context: LambdaRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        let function = try query.get("function").map { raw in
            try Self.parse { () throws(LambdaError) in try FunctionName(validating: raw, field: "function") }
        }
        let alias = try query.get("alias").map { raw in
            try Self.parse { () throws(LambdaError) in try AliasName(validating: raw, field: "alias") }
        }
        let state = query.get("status") ?? "all"
        guard state == "all" || state == "active" else { throw DeploymentError.invalidRequest("status is active or all, not \(state)") }
        let limitText = query.get("limit") ?? "50"
        guard let limit = Int(limitText), (1...200).contains(limit) else {
            throw DeploymentError.invalidRequest("limit is a number from 1 to 200, not \(limitText)")
        }
        var after: Deployment?
        if let marker = query.get("marker") {
            guard let id = DeploymentID(marker), let found = try await store.deployment(id) else {
                throw DeploymentError.invalidRequest("invalid marker \(marker)")
            }
            after = found
        }
        let page = try await store.deployments(
            function: function, alias: alias, activeOnly: state == "active", after: after, limit: limit + 1)
        let live = engine.liveReports()
        let shown = page.prefix(limit)
        return try aviaryJSON(DeploymentListWire(
            deployments: shown.map { wire($0, live: live[$0.id]) },
            nextMarker: page.count > limit ? shown.last?.id.rawValue : nil))
    }

    @Sendable func get(_ request: Request, context: LambdaRequestContext) async throws -> Response {
        let id = try deploymentID(context)
        guard let (deployment, live) = try await engine.deployment(id) else { throw DeploymentError.deploymentNotFound(id.rawValue) }
        return try aviaryJSON(wire(deployment, live: live))
    }

    func act(_ action: String, _ request: Request, _ context: LambdaRequestContext) async throws -> Response {
        let id = try deploymentID(context)
        let body = try await decodeAviaryBody(ActionWire.self, of: request)
        // With API keys, the authenticated user is the actor; the body's name is for open servers.
        let actor = context.principal ?? body.actor
        let deployment: Deployment
        switch action {
        case "promote": deployment = try await engine.act(id, .promote(by: actor, reason: body.reason))
        case "pause": deployment = try await engine.act(id, .pause(by: actor, reason: body.reason))
        case "resume": deployment = try await engine.act(id, .resume(by: actor, reason: body.reason))
        case "approve":
            deployment = try await engine.act(id, .approve(Approver(name: actor, via: "api", source: context.sourceIP), reason: body.reason))
        case "rollback":
            let report = try await engine.deployment(id)?.1
            deployment = try await engine.act(id, .rollback(by: actor, reason: body.reason, report: report))
        default:
            let retried = try await engine.retry(id, by: actor, reason: body.reason)
            return try aviaryJSON(wire(retried, live: nil), status: .created)
        }
        let live = try await engine.deployment(id)?.1
        return try aviaryJSON(wire(deployment, live: live))
    }

    @Sendable func reportHook(_ request: Request, context: LambdaRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let execution = try context.parameters.require("execution")
        let wire = try await decodeAviaryBody(HookReportWire.self, of: request)
        do {
            let deployment = try await engine.reportHook(deploymentID: id, executionID: execution, status: wire.status)
            return try aviaryJSON(self.wire(deployment, live: nil))
        } catch let error as HookReportError {
            let kind: DeploymentError.Kind =
                switch error.code {
                case "DeploymentDoesNotExistException", "InvalidLifecycleEventHookExecutionIdException": .notFound
                case "LifecycleEventAlreadyCompletedException": .conflict
                default: .invalidRequest
                }
            throw DeploymentError(error.code, kind, error.message)
        }
    }

    /// CodeDeploy's JSON 1.1 protocol: `POST /` with `X-Amz-Target: CodeDeploy_20141006.<Operation>`.
    @Sendable func codeDeploy(_ request: Request, context: LambdaRequestContext) async throws -> Response {
        let target = request.headers[.amzTarget] ?? ""
        guard target == "CodeDeploy_20141006.PutLifecycleEventHookExecutionStatus" else {
            return codeDeployError(
                "UnknownOperationException",
                target.hasPrefix("CodeDeploy_20141006.")
                    ? "Aviary implements only PutLifecycleEventHookExecutionStatus of CodeDeploy, not \(target.dropFirst(20))"
                    : "Aviary has no operation POST / without a CodeDeploy X-Amz-Target header",
                status: target.isEmpty ? .notFound : .badRequest)
        }
        let input: LifecycleHookStatusWire
        do {
            let buffer = try await request.body.collect(upTo: 64 * 1024)
            input = try JSONDecoder().decode(LifecycleHookStatusWire.self, from: Data(buffer: buffer))
        } catch is NIOTooManyBytesError {
            return codeDeployError("SerializationException", "The request body is larger than 64 KB.", status: .badRequest)
        } catch {
            return codeDeployError("SerializationException", "Could not read the request body as JSON: \(error)", status: .badRequest)
        }
        do {
            let execution = input.lifecycleEventHookExecutionId ?? ""
            _ = try await engine.reportHook(deploymentID: input.deploymentId ?? "", executionID: execution, status: input.status ?? "")
            let data = try JSONSerialization.data(withJSONObject: ["lifecycleEventHookExecutionId": execution])
            return Response(
                status: .ok, headers: [.contentType: "application/x-amz-json-1.1"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
        } catch let error as HookReportError {
            return codeDeployError(error.code, error.message, status: .badRequest)
        }
    }

    func codeDeployError(_ code: String, _ message: String, status: HTTPResponse.Status) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: ["__type": code, "message": message], options: [.sortedKeys])) ?? Data()
        return Response(
            status: status, headers: [.contentType: "application/x-amz-json-1.1", .amznErrorType: code],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// A deployment as the API shows it: with its gate's links while it waits, and its notifications.
    func wire(_ deployment: Deployment, live: HealthReport?) -> DeploymentWire {
        DeploymentWire(
            deployment, live: live, links: engine.signer.links(for: deployment),
            notifications: engine.notifier?.deliveries(of: deployment.id) ?? [])
    }

    /// The environment's policy under the request's own settings: its strategy when the request names
    /// none, its gate with the request's approval settings over it, its notification targets and the
    /// request's.
    func applyPolicy(_ wire: DeploymentSettingsWire, to request: inout DeploymentRequest) async throws {
        var environment: EnvironmentPolicy?
        if let name = wire.environment {
            try EnvironmentPolicy.validateName(name)
            guard let found = try await store.environment(name) else { throw EnvironmentsAPI.notFound(name) }
            environment = found
        }
        if wire.strategy == nil, let strategy = environment?.strategy { request.strategy = strategy }
        request.gate = try GateSettingsWire.gate(environment: environment, settings: wire.approval)
        let own = try (wire.notify ?? []).map { try NotificationTarget.parse($0) }
        request.notify = (environment?.notify ?? []) + own
        if let name = environment?.name, request.metadata["environment"] == nil { request.metadata["environment"] = name }
    }

    // MARK: Edge parsing

    func deploymentID(_ context: LambdaRequestContext) throws -> DeploymentID {
        let raw = try context.parameters.require("id")
        guard let id = DeploymentID(raw) else { throw DeploymentError.deploymentNotFound(raw) }
        return id
    }

    /// A Lambda name rule's failure, as Aviary's `InvalidRequest`.
    static func parse<T>(_ body: () throws(LambdaError) -> T) throws -> T {
        do { return try body() } catch { throw DeploymentError.invalidRequest(error.message) }
    }

    static func deploymentRequest(_ request: CreateDeploymentWire) throws -> DeploymentRequest {
        let (function, alias, target) = try Self.target(request.function, request.alias, request.targetVersion)
        let current = try request.currentVersion.map { raw in
            guard let number = VersionNumber(raw.value) else {
                throw DeploymentError.invalidRequest("currentVersion must be a published version number, not \(raw.value)")
            }
            return number
        }
        return try deploymentRequest(request.settings, function: function, alias: alias, toVersion: target, fromVersion: current)
    }

    /// A function, alias and version number as a request names them.
    static func target(_ functionText: String, _ aliasText: String, _ version: FlexibleString) throws -> (FunctionName, AliasName, VersionNumber) {
        let function = try parse { () throws(LambdaError) in try FunctionName(validating: functionText, field: "function") }
        let alias = try parse { () throws(LambdaError) in try AliasName(validating: aliasText, field: "alias") }
        guard let number = VersionNumber(version.value) else {
            throw DeploymentError.invalidRequest("targetVersion must be a published version number, not \(version.value)")
        }
        return (function, alias, number)
    }

    /// The request for moving one alias (or a release's first) with these settings.
    static func deploymentRequest(
        _ wire: DeploymentSettingsWire, function: FunctionName, alias: AliasName, toVersion target: VersionNumber, fromVersion current: VersionNumber?
    ) throws -> DeploymentRequest {
        let strategy = try Strategy.parse(wire.strategy ?? "Canary10Percent5Minutes")
        var health = HealthPolicy.standard
        if let wireHealth = wire.health {
            let rules = try (wireHealth.rules ?? health.rules.map(\.description)).map { try HealthRule.parse($0) }
            var comparison = health.comparison
            if wireHealth.comparison == false {
                comparison = nil
            } else if let alpha = wireHealth.alpha {
                comparison = try SequentialTest.Settings(alpha: alpha)
            } else if wireHealth.comparison == true, comparison == nil {
                comparison = SequentialTest.Settings()
            }
            var noData = health.noData
            if let raw = wireHealth.noData {
                guard let parsed = HealthPolicy.NoData(rawValue: raw) else {
                    throw DeploymentError.invalidHealthPolicy("noData is wait, fail or pass, not \(raw)")
                }
                noData = parsed
            }
            health = try HealthPolicy(
                rules: rules, comparison: comparison, minimumInvocations: wireHealth.minimumInvocations ?? health.minimumInvocations,
                noData: noData)
        }
        var hooks = Hooks()
        if let wireHooks = wire.hooks {
            hooks.preTraffic = try wireHooks.preTraffic.map(Self.hookTarget)
            hooks.postTraffic = try wireHooks.postTraffic.map(Self.hookTarget)
            if let timeout = wireHooks.timeout {
                guard let milliseconds = DurationText.milliseconds(timeout) else {
                    throw DeploymentError.invalidRequest("hooks.timeout is a duration such as 5m, not \(timeout)")
                }
                hooks.timeoutMilliseconds = milliseconds
            }
        }
        var bake: Int64 = 0
        if let text = wire.bake {
            guard let milliseconds = DurationText.milliseconds(text) else {
                throw DeploymentError.invalidRequest("bake is a duration such as 5m, not \(text)")
            }
            bake = milliseconds
        }
        return DeploymentRequest(
            function: function, alias: alias, toVersion: target, fromVersion: current, strategy: strategy, health: health,
            hooks: hooks, prewarm: wire.prewarm ?? 1, bakeMilliseconds: bake, description: wire.description ?? "",
            metadata: wire.metadata ?? [:], actor: wire.actor)
    }

    static func hookTarget(_ text: String) throws -> HookTarget {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        do {
            let name = try FunctionName(validating: parts.first ?? "", field: "hook")
            return HookTarget(function: name, qualifier: parts.count > 1 ? parts[1] : nil)
        } catch {
            throw DeploymentError.invalidRequest("hook \(text): \(error.message)")
        }
    }

}

extension HTTPField.Name {
    static let amzTarget = HTTPField.Name("X-Amz-Target")!
}
