import ArgumentParser
import AviaryCore
import AviaryTemplate
import Foundation

/// `aviary deploy template.yaml`: brings every function of an application to what its SAM template
/// says, publishing only what changed, then moves the changed aliases together as one release.
struct TemplateDeployment {
    let client: APIClient
    let lambda: LambdaCalls
    let spec: ApplicationSpec
    let application: String

    /// What deploying the template does to one function.
    struct FunctionPlan {
        let spec: FunctionSpec
        let zip: Data
        let codeSha256: String
        /// The function as the server has it now (nil: it does not exist yet).
        let current: LambdaCalls.Configuration?
        /// Where its alias points now (nil: no alias yet, or the function has none in the template).
        let alias: LambdaCalls.AliasState?
        let codeChanged: Bool
        let configurationChanged: Bool

        var isNew: Bool { current == nil }
        var changed: Bool { isNew || codeChanged || configurationChanged }

        var summary: String {
            var parts: [String] = []
            if isNew {
                parts.append("new function")
            } else {
                if codeChanged { parts.append("code changed") }
                if configurationChanged { parts.append("configuration changed") }
                if parts.isEmpty { parts.append("unchanged") }
            }
            if let aliasName = spec.alias {
                if let alias {
                    parts.append("\(aliasName) → v\(alias.version)\(alias.weights.isEmpty ? "" : " (split: a deployment is in flight)")")
                } else {
                    parts.append("alias \(aliasName) created")
                }
            } else {
                parts.append("no AutoPublishAlias: $LATEST only")
            }
            return parts.joined(separator: ", ")
        }
    }

    /// Reads the server's state of every function and compares it with the template; changes nothing.
    func plan() async throws -> [FunctionPlan] {
        var plans: [FunctionPlan] = []
        for function in spec.functions {
            let zip: Data
            do { zip = try Packager.package(function.code) } catch { throw ValidationError("\(function.logicalID): \(error.message)") }
            let sha = Packager.codeSha256(zip)
            let current = try await lambda.configuration(function.name)
            let alias = try await function.alias.asyncMap { try await lambda.alias(function.name, $0) } ?? nil
            plans.append(
                FunctionPlan(
                    spec: function, zip: zip, codeSha256: sha, current: current, alias: alias,
                    codeChanged: current.map { $0.codeSha256 != sha } ?? true,
                    configurationChanged: current.map { !$0.matches(function.settings) } ?? true))
        }
        return plans
    }

    /// The aliases the release moves, and the manifest entries of the functions it leaves alone.
    struct Outcome {
        var members: [(plan: FunctionPlan, version: String)] = []
        var unchanged: [(function: FunctionName, alias: AliasName, version: String)] = []
        var log: [String] = []
    }

    /// Creates or updates every function, publishes what changed, creates missing aliases; returns
    /// what the release must move.
    func apply(_ plans: [FunctionPlan]) async throws -> Outcome {
        var outcome = Outcome()
        for plan in plans {
            let function = plan.spec
            var version: String
            if plan.isNew {
                version = try await lambda.create(function, zip: plan.zip)
                outcome.log.append("\(function.name): created, version \(version)")
            } else {
                if plan.configurationChanged { try await lambda.updateConfiguration(function) }
                if plan.codeChanged { try await lambda.updateCode(function.name, zip: plan.zip) }
                // A no-op when nothing changed since the last publish: it returns that version.
                version = try await lambda.publish(function.name, codeSha256: plan.codeSha256)
                if plan.changed { outcome.log.append("\(function.name): published version \(version)") }
            }
            guard let aliasName = function.alias else { continue }
            guard let alias = plan.alias else {
                try await lambda.createAlias(function.name, aliasName, version: version)
                outcome.log.append("\(function.name): alias \(aliasName) → \(version)")
                outcome.unchanged.append((function.name, aliasName, version))
                continue
            }
            if alias.version == version && alias.weights.isEmpty {
                outcome.unchanged.append((function.name, aliasName, version))
            } else if function.deployment?.enabled == false {
                // DeploymentPreference.Enabled: false asks for no gradual deployment: the alias moves now.
                try await lambda.updateAlias(function.name, aliasName, version: version)
                outcome.log.append("\(function.name): alias \(aliasName) → \(version) at once (DeploymentPreference disabled)")
                outcome.unchanged.append((function.name, aliasName, version))
            } else {
                outcome.members.append((plan, version))
            }
        }
        // Once every alias exists: `FunctionUrlConfig` and `EventInvokeConfig`, on the alias when the
        // function has one.
        for plan in plans {
            if let url = plan.spec.url,
                let done = try await lambda.ensureURL(plan.spec.name, alias: plan.spec.alias, url)
            {
                outcome.log.append(done)
            }
            if let settings = plan.spec.eventInvoke,
                let done = try await lambda.ensureEventInvokeConfig(plan.spec.name, alias: plan.spec.alias, settings)
            {
                outcome.log.append(done)
            }
        }
        return outcome
    }

    /// The release's strategy: the flag's, else the changed functions' common one, else the slowest of
    /// theirs (one schedule for all), else none (the environment's or the server's default).
    static func strategy(of plans: [FunctionPlan], flag: String?) throws -> (Strategy?, note: String?) {
        if let flag {
            do { return (try Strategy.parse(flag), nil) } catch { throw ValidationError(error.message) }
        }
        let chosen = plans.compactMap { $0.spec.deployment?.strategy }
        guard let slowest = chosen.max(by: { $0.promotionAfterMilliseconds < $1.promotionAfterMilliseconds }) else { return (nil, nil) }
        let distinct = Set(chosen.map(\.name))
        return (slowest, distinct.count > 1 ? "functions ask for \(distinct.sorted().joined(separator: ", ")); the release follows the slowest, \(slowest.name)" : nil)
    }

    /// A release runs one pre-traffic and one post-traffic hook: the functions' hooks must agree.
    static func hooks(of plans: [FunctionPlan]) throws -> (pre: String?, post: String?) {
        func one(_ hooks: [FunctionName], _ kind: String) throws -> String? {
            let distinct = Set(hooks)
            guard distinct.count <= 1 else {
                throw ValidationError(
                    "the changed functions name different \(kind) hooks (\(distinct.map(\.rawValue).sorted().joined(separator: ", "))); "
                        + "a release runs one: use the same hook function for all")
            }
            return distinct.first?.rawValue
        }
        return (
            try one(plans.compactMap { $0.spec.deployment?.preTrafficHook }, "PreTraffic"),
            try one(plans.compactMap { $0.spec.deployment?.postTrafficHook }, "PostTraffic")
        )
    }

    /// The dry run's report: what changes, the schedule, the earliest promotion, how rollback works.
    static func describe(
        _ plans: [FunctionPlan], application: String, strategy: Strategy?, note: String?, gated: Bool, bakeMilliseconds bake: Int64
    )
        -> [String]
    {
        var lines = ["application \(application): \(plans.count) function\(plans.count == 1 ? "" : "s")"]
        let width = plans.map(\.spec.name.rawValue.count).max() ?? 0
        for plan in plans {
            lines.append("  " + plan.spec.name.rawValue.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + plan.summary)
        }
        let moving = plans.filter { $0.changed && $0.alias != nil && $0.spec.deployment?.enabled != false }
        guard !moving.isEmpty else {
            lines.append("release: none (no alias would move)")
            return lines
        }
        let schedule = strategy ?? (try? Strategy.parse("Canary10Percent5Minutes"))!
        let steps = schedule.steps.map { "\(Strategy.percentText($0.weight.value * 100)) for \(DurationText.format(milliseconds: $0.milliseconds))" }
        lines.append(
            "release: \(moving.count) alias\(moving.count == 1 ? "" : "es") together by \(schedule.name)"
                + (steps.isEmpty ? " (all at once)" : " (\(steps.joined(separator: ", ")), then 100%)")
                + (strategy == nil ? ", unless the environment names a strategy" : ""))
        if let note { lines.append("  \(note)") }
        let promotion = DurationText.format(milliseconds: schedule.promotionAfterMilliseconds)
        lines.append("earliest promotion: \(promotion) after the start" + (gated ? ", plus the wait for approval" : ""))
        lines.append(
            "rollback: automatic at the first failing check, until \(DurationText.format(milliseconds: schedule.promotionAfterMilliseconds + bake)) "
                + "after the start (promotion + bake); by hand, aviary rollback \(application) --to <release> repoints every alias in one transaction")
        return lines
    }
}

extension Optional {
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}
