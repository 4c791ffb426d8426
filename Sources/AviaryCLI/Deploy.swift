import ArgumentParser
import AviaryCore
import Foundation

/// `aviary deploy`: starts a deployment of one alias on a running server, optionally waiting for its end.
struct Deploy: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Move an alias to a new version gradually, judged on live traffic, rolled back on failure.",
        discussion: """
            Strategies: a CodeDeploy preset (Canary10Percent5Minutes, Linear10PercentEvery1Minute, AllAtOnce, … \
            also as CodeDeployDefault.Lambda…), or canary:10%:5m, linear:10%:1m, steps:1%@2m,10%@5m,50%@5m, all-at-once.
            Rules: <metric>>=<threshold>[@<period>][:<M>/<N>][,missing=…][,min=…] with metric error-rate, errors, \
            throttles or pNN, e.g. --rule 'error-rate>=5%@1m' --rule 'p99>=500ms@30s:2/3'.
            Without health options the standard policy applies: a sequential comparison of the new version's errors \
            with the old one's (false alarms ≤ 1%), error-rate>=50%@1m, and 10 invocations per step.
            With --env, the environment's policy applies (strategy, approval gate, canary weight before approval, \
            notifications); the flags here override it. A gated deployment holds its canary weight until someone \
            approves (the links are printed, and sent to the environment's webhooks).
            With --wait: exit 0 when promoted, 1 when rolled back or failed, 2 on usage errors.
            """)

    @Argument(help: "The function, or a SAM template (template.yaml / .json) to deploy a whole application as one release.")
    var function: String

    @Option(help: "The alias to move.")
    var alias: String?

    @Option(name: [.customLong("version"), .customLong("to")], help: "The published version to move the alias to.")
    var version: Int?

    @Option(help: "With a template: the application's name (default: the template's folder).")
    var app: String?

    @Option(name: .customLong("parameter-overrides"), parsing: .upToNextOption, help: "With a template: Key=Value (or ParameterKey=K,ParameterValue=V) for its Parameters.")
    var parameterOverrides: [String] = []

    @Flag(help: "With a template: print the plan (what changes, the schedule, promotion and rollback times) and change nothing.")
    var dryRun = false

    @Option(name: .customLong("from"), help: "The version the alias must point to now (refused otherwise).")
    var fromVersion: Int?

    @Option(help: "How traffic shifts (default: the environment's, else Canary10Percent5Minutes).")
    var strategy: String?

    @Option(name: .customLong("env"), help: "The environment whose policy applies (dev, qa, prod, or one set with aviary env set).")
    var environment: String?

    @Flag(inversion: .prefixedNo, help: "Hold at the canary weight until someone approves (default: the environment's policy; off without --env).")
    var requireApproval: Bool?

    @Option(help: "The new version's share while waiting for approval, 0 to below 1 (default: the environment's, else 0.1).")
    var canaryWeight: Double?

    @Option(help: "How long approval may take before the timeout action (default: the environment's, else 24h).")
    var approvalTimeout: String?

    @Option(help: "Where to announce this deployment, besides the environment's targets: slack:URL or webhook:URL; repeatable.")
    var notify: [String] = []

    @Option(name: .customLong("rule"), help: "A health rule; repeatable. Replaces the standard rule.")
    var rules: [String] = []

    @Option(help: "Shorthand for --rule 'error-rate>=<value>@<window>' (e.g. 5%).")
    var maxErrorRate: String?

    @Option(help: "Shorthand for --rule 'errors>=<value>@<window>'.")
    var maxErrors: Int?

    @Option(help: "Shorthand for --rule 'p99>=<value>@<window>' (e.g. 500ms).")
    var maxP99: String?

    @Option(help: "The period of the shorthand rules (default: 1m).")
    var window: String = "1m"

    @Flag(help: "Turn off the sequential comparison with the current version.")
    var noComparison = false

    @Option(help: "The comparison's false-alarm bound (default: 0.01).")
    var alpha: Double?

    @Option(help: "Invocations of the new version each step needs before the next (default: 10).")
    var minInvocations: Int?

    @Option(help: "When a step's time is up without enough invocations: wait, fail or pass (default: wait).")
    var noData: String?

    @Option(help: "A function invoked before any traffic shifts; it must report Succeeded.")
    var preTrafficHook: String?

    @Option(help: "A function invoked after promotion; it must report Succeeded.")
    var postTrafficHook: String?

    @Option(help: "How long a hook may take to report (default: 5m).")
    var hookTimeout: String?

    @Option(help: "Environments of the new version started before it takes traffic (default: 1).")
    var prewarm: Int?

    @Option(help: "How long the promoted version is still watched and reverted on failure (default: 0s).")
    var bake: String?

    @Option(help: "What this deployment is about.")
    var description: String?

    @Option(name: .customLong("meta"), help: "key=value facts (repository, build, …); repeatable.")
    var metadata: [String] = []

    @Option(help: "Who deploys (default: $USER).")
    var actor: String?

    @Flag(help: "Follow the deployment to its end; exit 0 when promoted, 1 otherwise.")
    var wait = false

    @OptionGroup var endpoint: EndpointOptions

    struct Body: Encodable {
        var function: String?
        var alias: String?
        var targetVersion: String?
        var currentVersion: String?
        var strategy: String?
        var environment: String?
        var approval: Approval?
        var notify: [String]?
        var health: Health?
        var hooks: Hooks?
        var prewarm: Int?
        var bake: String?
        var description: String?
        var metadata: [String: String]
        var actor: String?

        struct Health: Encodable {
            var rules: [String]?
            var comparison: Bool?
            var alpha: Double?
            var minimumInvocations: Int?
            var noData: String?
        }

        struct Hooks: Encodable {
            var preTraffic: String?
            var postTraffic: String?
            var timeout: String?
        }

        struct Approval: Encodable {
            var required: Bool?
            var canaryWeight: Double?
            var timeout: String?
        }
    }

    /// The request, checked here with the server's own parsers so that typos fail before any call.
    /// Checked before `run`, so that a usage error prints this command's usage.
    func validate() throws {
        if isTemplate {
            if alias != nil || version != nil { throw ValidationError("--alias and --version are for one function; a template names its aliases") }
        } else {
            guard alias != nil, version != nil else {
                throw ValidationError("deploying a function needs --alias and --version (or give a template.yaml to deploy an application)")
            }
            if app != nil || dryRun || !parameterOverrides.isEmpty {
                throw ValidationError("--app, --dry-run and --parameter-overrides are for templates")
            }
        }
    }

    func body(forTemplate: Bool = false) throws -> Body {
        do {
            if let strategy { _ = try Strategy.parse(strategy) }
            if let environment { try EnvironmentPolicy.validateName(environment) }
            for target in notify { _ = try NotificationTarget.parse(target) }
        } catch {
            throw ValidationError(error.message)
        }
        if let canaryWeight, !(0..<1).contains(canaryWeight) {
            throw ValidationError("--canary-weight is a share from 0 to below 1 (0.1 is 10%), not \(canaryWeight)")
        }
        var allRules = rules
        if let maxErrorRate { allRules.append("error-rate>=\(maxErrorRate)@\(window)") }
        if let maxErrors { allRules.append("errors>=\(maxErrors)@\(window)") }
        if let maxP99 { allRules.append("p99>=\(maxP99)@\(window)") }
        for rule in allRules {
            do { _ = try HealthRule.parse(rule) } catch { throw ValidationError(error.message) }
        }
        if let noData, HealthPolicy.NoData(rawValue: noData) == nil {
            throw ValidationError("--no-data is wait, fail or pass, not \(noData)")
        }
        for (name, text) in [("--bake", bake), ("--hook-timeout", hookTimeout), ("--window", window), ("--approval-timeout", approvalTimeout)] {
            if let text, DurationText.milliseconds(text) == nil {
                throw ValidationError("\(name) is a duration such as 30s, 5m or 1h, not \(text)")
            }
        }
        var meta: [String: String] = [:]
        for pair in metadata {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty else { throw ValidationError("--meta takes key=value, not \(pair)") }
            meta[parts[0]] = parts[1]
        }
        let customHealth = !allRules.isEmpty || noComparison || alpha != nil || minInvocations != nil || noData != nil
        let customHooks = preTrafficHook != nil || postTrafficHook != nil || hookTimeout != nil
        return Body(
            function: forTemplate ? nil : function, alias: alias, targetVersion: version.map(String.init),
            currentVersion: fromVersion.map(String.init),
            strategy: strategy, environment: environment,
            approval: requireApproval != nil || canaryWeight != nil || approvalTimeout != nil
                ? Body.Approval(required: requireApproval, canaryWeight: canaryWeight, timeout: approvalTimeout) : nil,
            notify: notify.isEmpty ? nil : notify,
            health: customHealth
                ? Body.Health(
                    rules: allRules.isEmpty ? nil : allRules, comparison: noComparison ? false : nil, alpha: alpha,
                    minimumInvocations: minInvocations, noData: noData)
                : nil,
            hooks: customHooks ? Body.Hooks(preTraffic: preTrafficHook, postTraffic: postTrafficHook, timeout: hookTimeout) : nil,
            prewarm: prewarm, bake: bake, description: description, metadata: meta,
            actor: actor ?? ProcessInfo.processInfo.environment["USER"])
    }

    /// Whether the argument names a template rather than a function.
    var isTemplate: Bool {
        [".yaml", ".yml", ".json"].contains { function.lowercased().hasSuffix($0) } || function.contains("/")
    }

    func run() async throws {
        if isTemplate { return try await deployTemplate() }
        let client = try endpoint.client()
        let request = try body()
        let deployment: DeploymentView
        do {
            deployment = try await client.post("v1/deployments", body: request, as: DeploymentView.self)
        } catch let failure as APIClient.Failure {
            if failure.isUsageError { throw ValidationError(failure.description) }
            throw CleanExit.failure(failure.description)
        }
        emit(
            "deployment \(deployment.id): \(deployment.function):\(deployment.alias) v\(deployment.currentVersion) → v\(deployment.targetVersion) by \(deployment.strategy.name)"
                + (deployment.environment.map { " in \($0)" } ?? ""))
        guard wait else {
            emit("follow it with: aviary status \(deployment.id)")
            return
        }
        let finished = try await Follow(client: client).until(done: deployment.id)
        if finished.status != "Succeeded" { throw ExitCode(1) }
    }
}

/// Polls a deployment and prints each change until it ends.
struct Follow {
    let client: APIClient
    var interval: Duration = .milliseconds(500)

    func until(done id: String) async throws -> DeploymentView {
        var lastLine = ""
        var shownHistory = 0
        var shownLinks = false
        var shownFailures = 0
        while true {
            let deployment = try await client.get("v1/deployments/\(id)", as: DeploymentView.self)
            for entry in deployment.history.dropFirst(shownHistory) {
                emit("\(Self.clock(entry.at))  \(entry.message)\(entry.by.map { " (by \($0))" } ?? "")")
            }
            shownHistory = deployment.history.count
            if !shownLinks, let links = deployment.approval?.links {
                emit("          approve:   \(links.approve)")
                emit("          roll back: \(links.rollback)")
                if let expires = deployment.approval?.expiresAt { emit("          (links work once, until \(expires))") }
                shownLinks = true
            }
            let failures = deployment.failedNotifications
            for line in failures.dropFirst(shownFailures) { emit("          \(line)") }
            shownFailures = max(shownFailures, failures.count)
            if deployment.isFinished {
                Self.printOutcome(deployment)
                return deployment
            }
            let line = deployment.progressLine
            if line != lastLine {
                emit("          \(line)")
                lastLine = line
            }
            try await Task.sleep(for: interval)
        }
    }

    static func printOutcome(_ deployment: DeploymentView) {
        guard let outcome = deployment.outcome else { return }
        emit("\(deployment.status): \(outcome.message)")
        if let report = outcome.report {
            emit("  v\(deployment.targetVersion): \(DeploymentView.figures(report.target))")
            emit("  v\(deployment.currentVersion): \(DeploymentView.figures(report.current))")
        }
    }

    /// `HH:mm:ss.SSS` of an API timestamp.
    static func clock(_ timestamp: String) -> String {
        guard let t = timestamp.firstIndex(of: "T") else { return timestamp }
        return String(timestamp[timestamp.index(after: t)...].prefix(12))
    }
}

/// A clean failure message with exit code 1 (ArgumentParser prints it).
enum CleanExit {
    static func failure(_ message: String) -> any Error {
        FileHandle.standardError.write(Data("Error: \(message)\n".utf8))
        return ExitCode(1)
    }
}
