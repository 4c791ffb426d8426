public import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Sends one webhook request: the seam between `Notifier` and the network, replaced in tests.
///
/// `Notifier` also gives up on an attempt after its timeout by cancelling the call, so an
/// implementation should honour task cancellation.
public protocol WebhookTransport: Sendable {
    /// POSTs `body` (JSON) to `url` and returns the HTTP status; throws when no response arrives.
    func post(url: URL, body: Data, timeout: Duration) async throws -> Int
}

/// A failed attempt, described the way an operator reads it in `aviary status`.
struct WebhookFailure: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}

/// The default transport: Foundation's URLSession, without cookies or caches.
struct URLSessionTransport: WebhookTransport {
    private let session = URLSession(configuration: .ephemeral)

    func post(url: URL, body: Data, timeout: Duration) async throws -> Int {
        var request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: timeout.seconds)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("aviary", forHTTPHeaderField: "User-Agent")
        let response: URLResponse
        do {
            (_, response) = try await session.upload(for: request, from: body)
        } catch let error as URLError {
            throw WebhookFailure(Self.describe(error))
        }
        guard let http = response as? HTTPURLResponse else { throw WebhookFailure("not an HTTP response") }
        return http.statusCode
    }

    /// URLError's own description on Linux is only a domain and a number.
    static func describe(_ error: URLError) -> String {
        switch error.code {
        case .cannotConnectToHost: "connection refused"
        case .timedOut: "timed out"
        case .cannotFindHost, .dnsLookupFailed: "host not found"
        case .networkConnectionLost: "connection lost"
        case .secureConnectionFailed, .serverCertificateUntrusted, .serverCertificateHasBadDate, .serverCertificateNotYetValid:
            "TLS handshake failed"
        case .cancelled: "cancelled"
        default: "network error \(error.code.rawValue)"
        }
    }
}

extension Duration {
    fileprivate var seconds: TimeInterval {
        let (seconds, attoseconds) = components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }
}
