import ArgumentParser
import Foundation
import Synchronization
import ZIPFoundation

/// `aviary demo`: the newcomer's tour. Starts a private server, deploys a good version that a canary
/// promotes under generated traffic, then a broken one that is rolled back by itself, narrating.
struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "A guided tour: a canary that promotes, then a bad version rolled back automatically.",
        discussion: "Runs its own server on a free loopback port with a temporary data directory (needs python3).")

    @Option(help: "Keep the demo's data here instead of a temporary directory.")
    var dataDir: String?

    @Option(help: "Seconds the canary step lasts.")
    var canarySeconds: Int = 5

    func validate() throws {
        guard (1...300).contains(canarySeconds) else { throw ValidationError("--canary-seconds is between 1 and 300") }
    }

    static let function = "demo-greeter"

    func run() async throws {
        let temporary = dataDir == nil
        let data = dataDir.map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("aviary-demo-\(UUID().uuidString.prefix(8))")
        say("Aviary demo: a canary that promotes, then a broken version rolled back by itself.\n")
        say("[1/6] starting a server, data in \(data.path)")
        let server = try DemoServer.start(dataDirectory: data)
        defer {
            server.stop()
            if temporary { try? FileManager.default.removeItem(at: data) }
        }
        let client = try APIClient(endpoint: server.url)
        say("      listening on \(server.url)  (try: aws --endpoint-url \(server.url) lambda list-functions)\n")

        say("[2/6] creating \(Self.function) (python3.12), publishing version 1, alias live → 1")
        try await lambda(client, "POST", "/2015-03-31/functions", [
            "FunctionName": Self.function, "Runtime": "python3.12", "Handler": "index.handler",
            "Role": "arn:aws:iam::123456789012:role/demo", "Publish": true,
            "Code": ["ZipFile": try Self.zip(Self.source(greeting: "Hello", broken: false)).base64EncodedString()],
        ])
        try await lambda(client, "POST", "/2015-03-31/functions/\(Self.function)/aliases", ["Name": "live", "FunctionVersion": "1"])

        say("\n[3/6] publishing version 2 (a friendlier greeting) and deploying it: canary 20% for \(canarySeconds)s")
        try await publish(client, greeting: "Hello there", broken: false)
        let good = try await deployWithTraffic(client, version: 2)

        say("\n[4/6] publishing version 3: a change that raises on every call")
        try await publish(client, greeting: "Hi", broken: true)
        say("\n[5/6] deploying version 3 the same way; watch it get rolled back")
        let bad = try await deployWithTraffic(client, version: 3)

        say("\n[6/6] summary")
        say("      version 2: \(good.status) — \(good.outcome?.message ?? "")")
        say("      version 3: \(bad.status) — \(bad.outcome?.message ?? "")")
        say("      live now answers from version \(try await aliasVersion(client))")
        say("\nNext: run `aviary serve`, deploy your own function with the aws CLI, then `aviary deploy FUNCTION --alias live --version N --wait`.")
    }

    func say(_ line: String) { emit(line) }

    static func source(greeting: String, broken: Bool) -> String {
        """
        def handler(event, context):
            \(broken ? "raise RuntimeError('version 3 forgot a null check')" : "return {'message': '\(greeting) from version ' + context.function_version}")

        """
    }

    static func zip(_ source: String) throws -> Data {
        let archive = try Archive(data: Data(), accessMode: .create)
        let data = Data(source.utf8)
        try archive.addEntry(with: "index.py", type: .file, uncompressedSize: Int64(data.count), compressionMethod: .deflate) {
            position, size in data.subdata(in: Int(position)..<Int(position) + size)
        }
        return archive.data!
    }

    func publish(_ client: APIClient, greeting: String, broken: Bool) async throws {
        try await lambda(client, "PUT", "/2015-03-31/functions/\(Self.function)/code", [
            "ZipFile": try Self.zip(Self.source(greeting: greeting, broken: broken)).base64EncodedString(), "Publish": true,
        ])
    }

    @discardableResult
    func lambda(_ client: APIClient, _ method: String, _ path: String, _ body: [String: Any]) async throws -> Data {
        let payload = method == "GET" ? nil : try JSONSerialization.data(withJSONObject: body)
        let (status, data, _) = try await client.raw(method, path, body: payload)
        guard (200..<300).contains(status) else {
            throw ValidationError("\(method) \(path) failed (\(status)): \(String(decoding: data, as: UTF8.self))")
        }
        return data
    }

    func aliasVersion(_ client: APIClient) async throws -> String {
        let data = try await lambda(client, "GET", "/2015-03-31/functions/\(Self.function)/aliases/live", [:])
        return ((try JSONSerialization.jsonObject(with: data)) as? [String: Any])?["FunctionVersion"] as? String ?? "?"
    }

    /// Deploys `version` as a 20% canary while invoking the alias about 20 times a second, and narrates.
    func deployWithTraffic(_ client: APIClient, version: Int) async throws -> DeploymentView {
        struct Body: Encodable {
            var function: String
            var alias = "live"
            var targetVersion: String
            var strategy: String
            var health = Health()
            var actor = "aviary demo"
            struct Health: Encodable { var minimumInvocations = 5 }
        }
        let started = try await client.post(
            "v1/deployments",
            body: Body(function: Self.function, targetVersion: String(version), strategy: "canary:20%:\(canarySeconds)s"),
            as: DeploymentView.self)
        say("      deployment \(started.id); traffic: ~20 invocations/s on \(Self.function):live")
        let traffic = Traffic()
        return try await withThrowingTaskGroup(of: DeploymentView?.self) { group in
            group.addTask {
                while !Task.isCancelled {
                    let response = try? await client.raw(
                        "POST", "/2015-03-31/functions/\(Self.function)/invocations", query: ["Qualifier": "live"],
                        body: Data("{}".utf8))
                    let functionError = response.map { $0.2.keys.contains { "\($0)".lowercased() == "x-amz-function-error" } } ?? true
                    traffic.record(ok: response?.0 == 200 && !functionError)
                    try? await Task.sleep(for: .milliseconds(50))
                }
                return nil
            }
            group.addTask { try await Follow(client: client).until(done: started.id) }
            var finished: DeploymentView?
            while let result = try await group.next() {
                if let result {
                    finished = result
                    group.cancelAll()
                }
            }
            let (sent, failed) = traffic.totals
            say("      \(sent) invocations sent during the deployment, \(failed) answered with an error")
            return finished!
        }
    }

    final class Traffic: Sendable {
        private let counts = Mutex((sent: 0, failed: 0))
        func record(ok: Bool) { counts.withLock { $0.sent += 1; if !ok { $0.failed += 1 } } }
        var totals: (Int, Int) { counts.withLock { ($0.sent, $0.failed) } }
    }
}

/// The demo's own `aviary serve`, started as a child process on a free port.
struct DemoServer {
    let process: Process
    let url: String

    static func start(dataDirectory: URL) throws -> DemoServer {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        process.arguments = ["serve", "--port", "0", "--data-dir", dataDirectory.path, "--log-level", "error"]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        // The banner's first line says where it listens.
        var text = ""
        let handle = output.fileHandleForReading
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline, !text.contains("\n") {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        guard let range = text.range(of: "listening on "), let end = text[range.upperBound...].firstIndex(where: \.isWhitespace) else {
            process.terminate()
            throw ValidationError("the demo server did not start: \(text)")
        }
        return DemoServer(process: process, url: String(text[range.upperBound..<end]))
    }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }
}
