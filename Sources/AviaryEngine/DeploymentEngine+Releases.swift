public import AviaryCore
import AviaryStore
import Foundation
import Logging
import Synchronization

extension DeploymentEngine {
    /// Starts a release: several aliases moved in lockstep as one deployment.
    public func startRelease(_ request: DeploymentRequest) async throws -> Deployment {
        guard request.release != nil else { throw DeploymentError.invalidRequest("not a release") }
        return try await start(request)
    }

    /// Puts every alias of an application back on the versions of an earlier release at once, in one
    /// transaction, without analysis; a release in flight on the application is rolled back first.
    /// Returns the new release recording it, or nil when the aliases already are there (so running it
    /// again, after an interruption or not, is safe).
    public func restore(_ application: String, to number: Int, by actor: String?, reason: String? = nil) async throws -> Deployment? {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<Deployment?, any Error>, Never>) in
            queue.yield(.restore(application: application, number: number, actor: actor, reason: reason) { continuation.resume(returning: $0) })
        }
        return try result.get()
    }

    /// Runs on the serial queue.
    func restore(
        _ application: String, to number: Int, by actor: String?, reason: String?, group: inout DiscardingTaskGroup
    ) async throws -> Deployment? {
        try ReleaseInfo.validateApplication(application)
        guard let earlier = try await store.release(application: application, number: number), let release = earlier.release else {
            throw DeploymentError.notFound("application \(application) has no release \(number)")
        }
        guard earlier.status == .succeeded else {
            throw DeploymentError.notAllowed(
                "release \(number) of \(application) ended \(earlier.status.rawValue) and was never live; pick a release that succeeded")
        }
        let inFlight = watched.withLock { watched in
            Set(release.manifest.compactMap { watched.byAlias[AliasKey(function: $0.function, alias: $0.alias)] })
        }
        for id in inFlight.sorted(by: { $0.rawValue < $1.rawValue }) {
            _ = try await apply(
                .rollback(by: actor, reason: "rollback of \(application) to release \(number)", report: nil), to: id, group: &group)
        }
        var moves: [DeploymentTarget] = []
        for entry in release.manifest {
            guard let function = store.function(entry.function) else {
                throw DeploymentError.notFound("function \(entry.function) of release \(number) no longer exists")
            }
            guard let version = function.versions[entry.version] else {
                throw DeploymentError.notFound("version \(entry.version) of \(entry.function) (release \(number)) no longer exists")
            }
            guard let alias = function.aliases[entry.alias] else {
                throw DeploymentError.notFound("alias \(entry.function):\(entry.alias) of release \(number) no longer exists")
            }
            if alias.functionVersion == .published(entry.version), alias.routing == nil { continue }
            let current: VersionNumber
            if case .published(let number) = alias.functionVersion { current = number } else { current = entry.version }
            moves.append(
                DeploymentTarget(
                    function: entry.function, alias: entry.alias, fromVersion: current, toVersion: entry.version,
                    fromRevisionId: function.versions[current]?.configuration.revisionId, toRevisionId: version.configuration.revisionId))
        }
        guard !moves.isEmpty else { return nil }
        var generator = SystemRandomNumberGenerator()
        let record = Deployment.restoration(
            id: DeploymentID.random(using: &generator), application: application,
            number: try await store.lastReleaseNumber(application: application) + 1, restoring: number, moves: moves,
            manifest: release.manifest, at: now(), by: actor, reason: reason)
        let scope = scope
        var changes: [FunctionName: @Sendable (inout LambdaFunction, ChangeContext) throws -> Void] = [:]
        for move in moves {
            changes[move.function] = { function, context in
                _ = try function.updateAlias(
                    name: move.alias, functionVersion: move.toVersion.description, description: nil, weights: [:],
                    expectedRevisionId: nil, scope: scope, context: context)
            }
        }
        try await store.save(record, scope: scope, audit: Self.auditEvents(record, since: nil), changingEach: changes)
        logger.warning("\(record.history.last?.message ?? "restored")", metadata: metadata(record))
        announce(record, since: nil)
        return record
    }
}

extension DeploymentEngine {
    /// Records the application's manifest as a new release when it differs from the last release's
    /// (functions created, aliases moved at once); nil when nothing changed. The manifest's versions must
    /// be what the aliases point to.
    public func recordRelease(
        _ application: String, manifest: [ManifestEntry], note: String, by actor: String?
    ) async throws -> Deployment? {
        // On the serial queue, as every release: two records at once cannot take the same number.
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<Deployment?, any Error>, Never>) in
            queue.yield(.record(application: application, manifest: manifest, note: note, actor: actor) { continuation.resume(returning: $0) })
        }
        return try result.get()
    }

    func record(_ application: String, manifest: [ManifestEntry], note: String, by actor: String?) async throws -> Deployment? {
        try ReleaseInfo.validateApplication(application)
        guard !manifest.isEmpty else { throw DeploymentError.invalidRequest("a release records at least one function") }
        guard Set(manifest.map(\.function)).count == manifest.count else {
            throw DeploymentError.invalidRequest("a function appears twice in the release")
        }
        for entry in manifest {
            guard let alias = store.function(entry.function)?.aliases[entry.alias] else {
                throw DeploymentError.notFound("alias \(entry.function):\(entry.alias) does not exist")
            }
            guard alias.functionVersion == .published(entry.version), alias.routing == nil else {
                throw DeploymentError.aliasNotReady(
                    "alias \(entry.function):\(entry.alias) points to \(alias.functionVersion), not version \(entry.version)")
            }
        }
        let sorted = manifest.sorted { $0.function.rawValue < $1.function.rawValue }
        let last = try await store.lastReleaseNumber(application: application)
        if last > 0, let previous = try await store.release(application: application, number: last)?.release, previous.manifest == sorted {
            return nil
        }
        var generator = SystemRandomNumberGenerator()
        let record = Deployment.recording(
            id: DeploymentID.random(using: &generator), application: application, number: last + 1, manifest: sorted, note: note,
            at: now(), by: actor)
        try await store.save(record, scope: scope, audit: Self.auditEvents(record, since: nil))
        return record
    }
}
