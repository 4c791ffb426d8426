import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A real HTTP server on 127.0.0.1 that records every request and answers with scripted statuses
/// (then 200), for tests of the real webhook transport.
final class HTTPReceiver: Sendable {
    struct Request: Sendable {
        let method: String
        let path: String
        let headers: [String: String]
        let body: Data
    }

    private let state: Mutex<(requests: [Request], statuses: [Int])>
    private let channel: Mutex<(any Channel)?> = Mutex(nil)

    private init(statuses: [Int]) {
        state = Mutex(([], statuses))
    }

    var requests: [Request] { state.withLock { $0.requests } }

    /// Runs a receiver for the duration of `body`, which gets its port.
    static func with(statuses: [Int] = [], _ body: (HTTPReceiver, Int) async throws -> Void) async throws {
        let receiver = HTTPReceiver(statuses: statuses)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Handler(receiver))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        do {
            try await body(receiver, channel.localAddress!.port!)
        } catch {
            try? await channel.close()
            throw error
        }
        try await channel.close()
    }

    /// The status for the request just recorded.
    fileprivate func record(_ request: Request) -> Int {
        state.withLock { state in
            state.requests.append(request)
            return state.statuses.isEmpty ? 200 : state.statuses.removeFirst()
        }
    }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        let receiver: HTTPReceiver
        var head: HTTPRequestHead?
        var body = ByteBuffer()

        init(_ receiver: HTTPReceiver) {
            self.receiver = receiver
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                self.head = head
                body.clear()
            case .body(var part):
                body.writeBuffer(&part)
            case .end:
                guard let head else { return }
                let headers = Dictionary(head.headers.map { ($0.name.lowercased(), $0.value) }) { $1 }
                let status = receiver.record(
                    Request(method: head.method.rawValue, path: head.uri, headers: headers, body: Data(body.readableBytesView)))
                let response = HTTPResponseHead(
                    version: head.version, status: HTTPResponseStatus(statusCode: status), headers: ["Content-Length": "0"])
                context.write(wrapOutboundOut(.head(response)), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            }
        }
    }
}
