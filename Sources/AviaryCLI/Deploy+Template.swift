import ArgumentParser
import AviaryCore
import AviaryTemplate
import Foundation

extension Deploy {
    /// `POST /v1/releases`: the application, the aliases to move, the manifest's other entries, and the
    /// same settings as a single deployment.
    struct ReleaseBody: Encodable {
        var application: String
        var functions: [Member]
        var unchanged: [Unchanged]
        var settings: Body

        struct Member: Encodable {
            var function: String
            var alias: String
            var targetVersion: String
            var rules: [String]?
        }

        struct Unchanged: Encodable {
            var function: String
            var alias: String
            var version: String
        }

        enum CodingKeys: String, CodingKey {
            case application, functions, unchanged
        }

        func encode(to encoder: any Encoder) throws {
            try settings.encode(to: encoder)
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(application, forKey: .application)
            try container.encode(functions, forKey: .functions)
            try container.encode(unchanged, forKey: .unchanged)
        }
    }

    static func unchanged(_ entry: (function: FunctionName, alias: AliasName, version: String)) -> ReleaseBody.Unchanged {
        ReleaseBody.Unchanged(function: entry.function.rawValue, alias: entry.alias.rawValue, version: entry.version)
    }

    /// The application's name: `--app`, else the template's folder.
    func applicationName(_ template: URL) throws -> String {
        let name = app ?? template.deletingLastPathComponent().lastPathComponent
        do {
            try ReleaseInfo.validateApplication(name)
        } catch {
            throw ValidationError(app == nil ? "name the application with --app (its folder '\(name)' is not a valid name)" : error.message)
        }
        return name
    }

    func deployTemplate() async throws {
        let file = URL(fileURLWithPath: function, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath)).standardizedFileURL
        let application = try applicationName(file)
        let spec: ApplicationSpec
        do {
            let overrides = try ApplicationTemplate.parseOverrides(parameterOverrides)
            spec = try ApplicationTemplate.load(file, parameters: overrides, applicationName: application)
        } catch {
            throw ValidationError(error.message)
        }
        var settings = try body(forTemplate: true)
        let client = try endpoint.client()
        let deployment = TemplateDeployment(client: client, lambda: LambdaCalls(client: client), spec: spec, application: application)
        for warning in spec.warnings { emit("warning: \(warning)") }

        let plans = try await deployment.plan()
        let moving = plans.filter { $0.changed && $0.alias != nil && $0.spec.deployment?.enabled != false }
        let (strategy, note) = try TemplateDeployment.strategy(of: moving, flag: self.strategy)
        if dryRun {
            let gated = environment.map { $0 != "dev" && $0 != "qa" } ?? (requireApproval == true)
            let lines = TemplateDeployment.describe(
                plans, application: application, strategy: strategy, note: note, gated: gated,
                bakeMilliseconds: bake.flatMap { DurationText.milliseconds($0) } ?? 0)
            lines.forEach(emit)
            return
        }
        let hooks = try TemplateDeployment.hooks(of: moving)
        let outcome = try await deployment.apply(plans)
        outcome.log.forEach(emit)
        guard !outcome.members.isEmpty else {
            // Nothing moves gradually; the state is still recorded as a release when it is new.
            let (status, data, _) = try await client.raw(
                "POST", "v1/releases",
                body: try JSONEncoder().encode(ReleaseBody(application: application, functions: [], unchanged: outcome.unchanged.map(Self.unchanged), settings: settings)))
            if status == 201, let recorded = try? JSONDecoder().decode(DeploymentView.self, from: data) {
                emit(recorded.outcome?.message ?? "recorded release \(recorded.release?.number ?? 0)")
            } else if status == 200 {
                emit("nothing to release: every alias of \(application) already points to what the template describes")
            } else {
                throw CleanExit.failure(String(decoding: data.prefix(500), as: UTF8.self))
            }
            return
        }
        settings.strategy = strategy?.name
        if settings.hooks == nil, hooks.pre != nil || hooks.post != nil {
            settings.hooks = Body.Hooks(preTraffic: hooks.pre, postTraffic: hooks.post, timeout: hookTimeout)
        }
        if settings.metadata["template"] == nil { settings.metadata["template"] = file.lastPathComponent }
        let request = ReleaseBody(
            application: application,
            functions: outcome.members.map { member in
                let rules = member.plan.spec.deployment?.rules ?? []
                return ReleaseBody.Member(
                    function: member.plan.spec.name.rawValue, alias: member.plan.spec.alias!.rawValue, targetVersion: member.version,
                    rules: rules.isEmpty ? nil : rules.map(\.description))
            },
            unchanged: outcome.unchanged.map(Self.unchanged),
            settings: settings)
        let release: DeploymentView
        do {
            release = try await client.post("v1/releases", body: request, as: DeploymentView.self)
        } catch let failure as APIClient.Failure {
            if failure.isUsageError { throw ValidationError(failure.description) }
            throw CleanExit.failure(failure.description)
        }
        let moved = release.release?.functions.map { "\($0.function) v\($0.currentVersion) → v\($0.targetVersion)" } ?? []
        emit(
            "release \(release.release?.number ?? 0) of \(application) (\(release.id)) by \(release.strategy.name)"
                + (release.environment.map { " in \($0)" } ?? "") + ": " + moved.joined(separator: ", "))
        if let note { emit("  \(note)") }
        guard wait else {
            emit("follow it with: aviary status \(release.id)")
            return
        }
        let finished = try await Follow(client: client).until(done: release.id)
        if finished.status != "Succeeded" { throw ExitCode(1) }
    }
}
