import ArgumentParser
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A small client of Aviary's `/v1` API for the CLI commands.
struct APIClient {
    let endpoint: URL
    /// `AVIARY_TOKEN`: the bearer token for a server started with `--auth` (an environment variable only, so
    /// that it never shows in the process list as an argument would).
    let token: String?

    static let defaultEndpoint = "http://127.0.0.1:\(Serve.defaultPort)"

    /// `--endpoint`, else `AVIARY_ENDPOINT`, else the local default.
    init(endpoint: String?) throws {
        let text = endpoint ?? ProcessInfo.processInfo.environment["AVIARY_ENDPOINT"] ?? Self.defaultEndpoint
        guard let url = URL(string: text), url.scheme == "http" || url.scheme == "https", url.host != nil else {
            throw ValidationError("the endpoint must be an http(s) URL such as \(Self.defaultEndpoint), not '\(text)'")
        }
        self.endpoint = url
        self.token = ProcessInfo.processInfo.environment["AVIARY_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// An error the server answered with (`{"code", "message"}`), or a failure to reach it.
    struct Failure: Error, CustomStringConvertible {
        let status: Int
        let code: String
        let message: String

        var description: String { status == 0 ? message : "\(code): \(message)" }
        /// The server refused the request as malformed: the user's input, not the deployment, was wrong.
        var isUsageError: Bool { status == 400 }
    }

    func get<Response: Decodable>(_ path: String, query: [String: String] = [:], as type: Response.Type) async throws -> Response {
        try await send("GET", path, query: query, body: nil, as: type)
    }

    func post<Response: Decodable>(_ path: String, body: some Encodable, as type: Response.Type) async throws -> Response {
        try await send("POST", path, query: [:], body: try JSONEncoder().encode(body), as: type)
    }

    func send<Response: Decodable>(
        _ method: String, _ path: String, query: [String: String] = [:], body: Data?, as type: Response.Type
    ) async throws -> Response {
        let (status, data, _) = try await raw(method, path, query: query, body: body)
        guard (200..<300).contains(status) else {
            let error = try? JSONDecoder().decode(ErrorBody.self, from: data)
            if status == 401 {
                throw Failure(
                    status: status, code: "Unauthorized",
                    message: token == nil
                        ? "Aviary at \(endpoint.absoluteString) requires a token: set AVIARY_TOKEN to one of the tokens in its keys file (docs/auth.md)"
                        : "Aviary at \(endpoint.absoluteString) refused the token in AVIARY_TOKEN: \(error?.message ?? "not one of its tokens")")
            }
            throw Failure(
                status: status, code: error?.code ?? error?.Type ?? "HTTP\(status)",
                message: error?.message ?? error?.Message ?? String(decoding: data.prefix(500), as: UTF8.self))
        }
        return try JSONDecoder().decode(Response.self, from: data)
    }

    /// One request; the status, body and headers whatever the status.
    func raw(
        _ method: String, _ path: String, query: [String: String] = [:], body: Data?, headers: [String: String] = [:],
        sendingToken: Bool = true
    ) async throws -> (Int, Data, [AnyHashable: Any]) {
        var components = URLComponents(url: endpoint.appendingPathComponent(path), resolvingAgainstBaseURL: false)!
        if !query.isEmpty { components.queryItems = query.sorted { $0.key < $1.key }.map { URLQueryItem(name: $0.key, value: $0.value) } }
        var request = URLRequest(url: components.url!)
        request.httpMethod = method
        request.timeoutInterval = 30
        if let body {
            request.httpBody = body
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        // The Lambda API takes SigV4 only: the bearer token is Aviary's own API's.
        if let token, sendingToken { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await URLSession.shared.data(for: request)
        } catch {
            throw Failure(status: 0, code: "Unreachable", message: "cannot reach Aviary at \(endpoint.absoluteString): \(error.localizedDescription) (is `aviary serve` running? set --endpoint or AVIARY_ENDPOINT)")
        }
        let http = response as? HTTPURLResponse
        return (http?.statusCode ?? 0, data, http?.allHeaderFields ?? [:])
    }

    /// Aviary's `{code, message}` or the Lambda API's `{Type, Message}`.
    struct ErrorBody: Decodable {
        var code: String?
        var message: String?
        var `Type`: String?
        var Message: String?
    }
}

/// `--endpoint`, shared by the commands that talk to a running server.
struct EndpointOptions: ParsableArguments {
    @Option(help: "Aviary's URL. (env: AVIARY_ENDPOINT, default: \(APIClient.defaultEndpoint))")
    var endpoint: String?

    func client() throws -> APIClient { try APIClient(endpoint: endpoint) }
}

/// Writes a line to standard output at once (unbuffered, so output from concurrent tasks stays in order).
func emit(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
