import ArgumentParser
import Foundation

/// `aviary history`: the audit trail, oldest first.
struct History: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the audit trail: every change, deployment decision and who made it.")

    @Option(help: "Only entries of this function.") var function: String?
    @Option(help: "Only entries of this deployment.") var deployment: String?
    @Option(help: "Only entries whose deployment names this repository (--meta repository=…).") var repository: String?
    @Option(help: "Only entries this recent: a duration such as 30m or 24h.") var since: String?
    @Option(help: "At most this many entries (default 100).") var limit: Int = 100
    @OptionGroup var endpoint: EndpointOptions

    struct Page: Decodable {
        var entries: [Entry]
        var nextMarker: String?
    }

    struct Entry: Decodable {
        var sequence: Int64
        var at: String
        var actor: String
        var source: String?
        var action: String
        var function: String?
        var alias: String?
        var deployment: String?
        var repository: String?
        var build: String?
        var details: [String: String]
    }

    func run() async throws {
        let client = try endpoint.client()
        var query = ["limit": String(limit)]
        for (key, value) in [("function", function), ("deployment", deployment), ("repository", repository), ("since", since)] {
            if let value { query[key] = value }
        }
        do {
            let page = try await client.get("v1/audit", query: query, as: Page.self)
            if page.entries.isEmpty { emit("no entries") }
            for entry in page.entries {
                var subject = [entry.function.map { $0 + (entry.alias.map { ":\($0)" } ?? "") }, entry.deployment].compactMap { $0 }.joined(separator: " ")
                if let repository = entry.repository { subject += " [\(repository)\(entry.build.map { " #\($0)" } ?? "")]" }
                let what = entry.details["message"] ?? entry.details["change"] ?? ""
                emit("\(entry.sequence)  \(entry.at)  \(entry.actor)\(entry.source.map { "@\($0)" } ?? "")  \(entry.action)  \(subject)  \(what)")
            }
            if page.nextMarker != nil { emit("… more: raise --limit or narrow the filters") }
        } catch let failure as APIClient.Failure {
            throw CleanExit.failure(failure.description)
        }
    }
}

/// `aviary audit verify`: checks the audit trail's hash chain.
struct Audit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the audit trail.", subcommands: [Verify.self])

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recompute the audit trail's hash chain; exit 1 if an entry was edited or removed.")

        @OptionGroup var endpoint: EndpointOptions

        struct Result: Decodable {
            var intact: Bool
            var entries: Int
            var firstBroken: Int64?
            var problem: String?
        }

        func run() async throws {
            let client = try endpoint.client()
            let result: Result
            do {
                result = try await client.get("v1/audit/verify", as: Result.self)
            } catch let failure as APIClient.Failure {
                throw CleanExit.failure(failure.description)
            }
            if result.intact {
                emit("audit trail intact: \(result.entries) entries")
            } else {
                emit("audit trail BROKEN at entry \(result.firstBroken ?? 0): \(result.problem ?? "")")
                throw ExitCode(1)
            }
        }
    }
}
