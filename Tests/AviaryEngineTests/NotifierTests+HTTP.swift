import AviaryCore
@testable import AviaryEngine
import Foundation
import Testing

/// The default transport (URLSession) against a real HTTP server.
extension NotifierTests {
    @Test func theDefaultTransportPostsJSONAndRetriesAServerError() async throws {
        try await HTTPReceiver.with(statuses: [500]) { receiver, port in
            let notifier = Notifier(logger: quiet, retryDelays: [.milliseconds(10)], timeout: .seconds(5))
            let deployment = try gated(notify: ["webhook:http://127.0.0.1:\(port)/hook?token=s3cret"])
            try await running(notifier) {
                notifier.send(DeploymentNotification(event: .started, deployment: deployment, at: time))
                try #require(await eventually { notifier.deliveries(of: deployment.id).first?.state == .delivered })
            }
            let delivery = try #require(notifier.deliveries(of: deployment.id).first)
            #expect(delivery.attempts == 2)
            #expect(delivery.lastError == "HTTP 500")
            #expect(delivery.target == "webhook:http://127.0.0.1:\(port)/…")

            let requests = receiver.requests
            #expect(requests.count == 2)
            for request in requests {
                #expect(request.method == "POST")
                #expect(request.path == "/hook?token=s3cret")
                #expect(request.headers["content-type"] == "application/json")
                #expect(request.headers["user-agent"] == "aviary")
                let event = try json(request.body)
                #expect(event["event"] as? String == "started")
                #expect((event["deployment"] as? [String: Any])?["id"] as? String == deployment.id.rawValue)
            }
        }
    }

    @Test func theDefaultTransportReportsARefusedConnection() async throws {
        var closedPort = 0
        try await HTTPReceiver.with { _, port in closedPort = port }
        let notifier = Notifier(logger: quiet, retryDelays: [.milliseconds(1)], timeout: .seconds(5))
        let deployment = try gated(notify: ["slack:http://127.0.0.1:\(closedPort)/services/T/B/X"])
        try await running(notifier) {
            notifier.send(DeploymentNotification(event: .started, deployment: deployment, at: time))
            try #require(await eventually { notifier.deliveries(of: deployment.id).first?.state == .failed })
        }
        let delivery = try #require(notifier.deliveries(of: deployment.id).first)
        #expect(delivery.attempts == 2)
        #expect(delivery.lastError == "connection refused")
    }
}
