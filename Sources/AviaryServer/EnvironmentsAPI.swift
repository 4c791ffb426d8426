import AviaryCore
import AviaryEngine
public import AviaryStore
import Foundation
public import Hummingbird

/// `/v1/environments`: the named deployment policies (`dev`, `qa`, `prod`…). `dev`, `qa` and `prod`
/// exist from the start with their defaults; `PUT` changes the fields it names and keeps the others.
public struct EnvironmentsAPI: Sendable {
    let store: RegistryStore

    public init(store: RegistryStore) {
        self.store = store
    }

    public func addRoutes(to router: Router<LambdaRequestContext>) {
        let environments = router.group("v1/environments")
        environments.get { _, _ in
            try aviaryJSON(EnvironmentListWire(environments: try await store.environments().map(EnvironmentWire.init)))
        }
        environments.get(":name") { _, context in
            let name = try Self.name(context)
            guard let environment = try await store.environment(name) else { throw Self.notFound(name) }
            return try aviaryJSON(EnvironmentWire(environment))
        }
        environments.put(":name") { request, context in
            let name = try Self.name(context)
            let wire = try await decodeAviaryBody(EnvironmentChangeWire.self, of: request, limit: 64 * 1024)
            let current = try await store.environment(name) ?? EnvironmentPolicy(name: name)
            let changed = try wire.apply(to: current).validated()
            try await store.save(changed, audit: Self.audit("environment.updated", changed, context))
            return try aviaryJSON(EnvironmentWire(changed))
        }
        environments.delete(":name") { _, context in
            let name = try Self.name(context)
            let audit = AuditEvent(
                at: RegistryStore.systemNow(), actor: context.principal ?? "anonymous", source: context.sourceIP,
                action: "environment.deleted", details: ["environment": name, "requestId": context.requestID])
            guard try await store.deleteEnvironment(name, audit: audit) else { throw Self.notFound(name) }
            return Response(status: .noContent)
        }
    }

    static func name(_ context: LambdaRequestContext) throws -> String {
        let name = try context.parameters.require("name")
        try EnvironmentPolicy.validateName(name)
        return name
    }

    static func notFound(_ name: String) -> DeploymentError {
        .notFound("environment \(name) does not exist; create it with aviary env set \(name) (dev, qa and prod always exist)")
    }

    static func audit(_ action: String, _ environment: EnvironmentPolicy, _ context: LambdaRequestContext) -> AuditEvent {
        let wire = EnvironmentWire(environment)
        var details = ["environment": environment.name, "requestId": context.requestID]
        details["policy"] =
            "strategy \(wire.strategy ?? "default"), canary weight \(wire.canaryWeight), "
            + (wire.requireApproval ? "approval required" : "pre-approved")
            + ", timeout \(wire.approvalTimeout) then \(wire.onTimeout), after approval \(wire.afterApproval)"
            + (wire.approvers.isEmpty ? "" : ", approvers \(wire.approvers.joined(separator: ","))")
            + ", \(wire.notify.count) notification target\(wire.notify.count == 1 ? "" : "s")"
        return AuditEvent(
            at: RegistryStore.systemNow(), actor: context.principal ?? "anonymous", source: context.sourceIP, action: action,
            details: details)
    }
}

struct EnvironmentListWire: Encodable {
    var environments: [EnvironmentWire]
}

struct EnvironmentWire: Encodable {
    var name: String
    var strategy: String?
    var canaryWeight: Double
    var requireApproval: Bool
    var approvalTimeout: String
    var onTimeout: String
    var afterApproval: String
    var approvers: [String]
    var notify: [String]

    init(_ environment: EnvironmentPolicy) {
        name = environment.name
        strategy = environment.strategy?.name
        canaryWeight = environment.canaryWeight.value
        requireApproval = environment.requireApproval
        approvalTimeout = DurationText.format(milliseconds: environment.approvalTimeoutMilliseconds)
        onTimeout = environment.onTimeout.rawValue
        afterApproval = environment.afterApproval.rawValue
        approvers = environment.approvers
        // Write-only secrets: webhook URLs carry theirs in the path.
        notify = environment.notify.map(\.redacted)
    }
}

/// The fields of a `PUT`; absent ones keep their value, an empty `strategy` clears it.
struct EnvironmentChangeWire: Decodable {
    var strategy: String?
    var canaryWeight: Double?
    var requireApproval: Bool?
    var approvalTimeout: String?
    var onTimeout: String?
    var afterApproval: String?
    var approvers: [String]?
    var notify: [String]?

    func apply(to current: EnvironmentPolicy) throws -> EnvironmentPolicy {
        var policy = current
        if let strategy { policy.strategy = strategy.isEmpty ? nil : try Strategy.parse(strategy) }
        if let canaryWeight { policy.canaryWeight = try GateSettingsWire.weight(canaryWeight) }
        if let requireApproval { policy.requireApproval = requireApproval }
        if let approvalTimeout { policy.approvalTimeoutMilliseconds = try GateSettingsWire.duration(approvalTimeout, "approvalTimeout") }
        if let onTimeout { policy.onTimeout = try GateSettingsWire.choice(onTimeout, "onTimeout") }
        if let afterApproval { policy.afterApproval = try GateSettingsWire.choice(afterApproval, "afterApproval") }
        if let approvers { policy.approvers = approvers }
        if let notify { policy.notify = try notify.map { try NotificationTarget.parse($0) } }
        return policy
    }
}

/// A deployment's own gate settings (`approval` in `POST /v1/deployments`), over its environment's.
struct GateSettingsWire: Decodable {
    var required: Bool?
    var canaryWeight: Double?
    var timeout: String?
    var onTimeout: String?
    var afterApproval: String?
    var approvers: [String]?

    /// The gate of a deployment: its environment's (if any) with these settings over it; none when the
    /// deployment names neither an environment nor approval settings.
    static func gate(environment: EnvironmentPolicy?, settings: GateSettingsWire?) throws -> ApprovalGate? {
        guard environment != nil || settings != nil else { return nil }
        var gate = environment?.gate ?? ApprovalGate()
        if let settings {
            if let required = settings.required { gate.preApproved = !required }
            if let weight = settings.canaryWeight { gate.canaryWeight = try Self.weight(weight) }
            if let timeout = settings.timeout { gate.timeoutMilliseconds = try Self.duration(timeout, "approval.timeout") }
            if let action = settings.onTimeout { gate.onTimeout = try choice(action, "approval.onTimeout") }
            if let after = settings.afterApproval { gate.afterApproval = try choice(after, "approval.afterApproval") }
            if let approvers = settings.approvers { gate.approvers = approvers }
        }
        return try gate.validated()
    }

    static func weight(_ value: Double) throws -> Weight {
        guard let weight = Weight(value), value < 1 else {
            throw DeploymentError.invalidRequest("the canary weight before approval is a number from 0 to below 1, not \(value)")
        }
        return weight
    }

    static func duration(_ text: String, _ field: String) throws -> Int64 {
        guard let milliseconds = DurationText.milliseconds(text) else {
            throw DeploymentError.invalidRequest("\(field) is a duration such as 30m or 24h, not \(text)")
        }
        return milliseconds
    }

    static func choice<Choice: RawRepresentable & CaseIterable>(_ text: String, _ field: String) throws -> Choice where Choice.RawValue == String {
        guard let value = Choice(rawValue: text) else {
            throw DeploymentError.invalidRequest("\(field) is \(Choice.allCases.map(\.rawValue).joined(separator: " or ")), not \(text)")
        }
        return value
    }
}
