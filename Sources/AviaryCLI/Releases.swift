import ArgumentParser
import AviaryCore
import Foundation

/// `aviary releases APP`: an application's releases, newest first.
struct Releases: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List an application's releases: number, status, and the versions each put live.",
        discussion: "Go back to one with: aviary rollback APP --to NUMBER")

    @Argument(help: "The application (the name given to aviary deploy TEMPLATE --app).") var application: String
    @Flag(help: "Show every function's version in each release.") var manifest = false
    @Option(help: "How many releases (default: 20).") var limit: Int = 20
    @OptionGroup var endpoint: EndpointOptions

    struct List: Decodable {
        var releases: [DeploymentView]
    }

    func validate() throws {
        do { try ReleaseInfo.validateApplication(application) } catch { throw ValidationError(error.message) }
        guard (1...200).contains(limit) else { throw ValidationError("--limit is from 1 to 200") }
    }

    func run() async throws {
        let client = try endpoint.client()
        let list: List
        do {
            list = try await client.get("v1/applications/\(application)/releases", query: ["limit": String(limit)], as: List.self)
        } catch let failure as APIClient.Failure {
            throw CleanExit.failure(failure.description)
        }
        guard !list.releases.isEmpty else {
            emit("no releases of \(application)")
            return
        }
        for view in list.releases {
            guard let release = view.release else { continue }
            let moved = release.functions.map { "\($0.function) \($0.currentVersion)→\($0.targetVersion)" }.joined(separator: ", ")
            emit("#\(release.number)  \(view.id)  \(view.createdAt)  \(view.status)  \(moved)")
            if let outcome = view.outcome { emit("      \(outcome.message)") }
            if manifest {
                for line in release.manifest { emit("      \(line.function):\(line.alias) → \(line.version)") }
            }
        }
    }
}
