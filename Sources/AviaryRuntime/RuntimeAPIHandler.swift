import NIOCore
import NIOHTTP1

/// Serves the Lambda Runtime API (`/2018-06-01/runtime/…`) to one environment's process.
///
/// Replies are single writes with `Content-Type: application/json` exactly (the official Python client
/// decodes nothing else) on a keep-alive connection with Nagle off.
final class RuntimeAPIHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// The largest response or error body a function may post: AWS's 6 MB plus 100 bytes.
    static let maxBodyBytes = 6_291_556
    static let prefix = "/2018-06-01/runtime/"

    private let environment: ExecutionEnvironment
    private var head: HTTPRequestHead?
    private var body: ByteBuffer?
    private var bodyTooLarge = false

    init(environment: ExecutionEnvironment) {
        self.environment = environment
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            self.body = context.channel.allocator.buffer(capacity: 0)
            self.bodyTooLarge = false
        case .body(var chunk):
            if (body?.readableBytes ?? 0) + chunk.readableBytes > Self.maxBodyBytes {
                bodyTooLarge = true
            } else {
                body?.writeBuffer(&chunk)
            }
        case .end:
            guard let head else { return }
            let body = self.body ?? ByteBuffer()
            self.head = nil
            self.body = nil
            route(head, body: body, context: context)
        }
    }

    private func route(_ head: HTTPRequestHead, body: ByteBuffer, context: ChannelHandlerContext) {
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        guard path.hasPrefix(Self.prefix) else { return reply(404, error: "UnknownOperation", context: context, head: head) }
        let parts = path.dropFirst(Self.prefix.count).split(separator: "/").map(String.init)
        switch (head.method, parts.count, parts.first, parts.last) {
        case (.GET, 2, "invocation", "next"):
            let promise = context.eventLoop.makePromise(of: Invocation?.self)
            let keepAlive = head.isKeepAlive
            // The promise completes on this channel's event loop, where handler and context may be used.
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            promise.futureResult.whenSuccess { invocation in
                let (handler, context) = bound.value
                if let invocation {
                    handler.deliver(invocation, keepAlive: keepAlive, context: context)
                } else {
                    handler.reply(403, error: "InvalidStateTransition", message: "The environment is shutting down", context: context, head: head)
                }
            }
            environment.nextRequested(promise)
        case (.POST, 3, "invocation", "response"), (.POST, 3, "invocation", "error"):
            if bodyTooLarge {
                environment.responseTooLarge(requestID: parts[1])
                return reply(413, error: "RequestEntityTooLarge", message: "Response payload size exceeded maximum allowed payload size (\(Self.maxBodyBytes) bytes).", context: context, head: head)
            }
            let errorType = head.headers.first(name: "Lambda-Runtime-Function-Error-Type")
            let status = environment.resultPosted(
                requestID: parts[1], body: body, isError: parts.last == "error", errorType: errorType)
            reply(status, context: context, head: head)
        case (.POST, 2, "init", "error"):
            let errorType = head.headers.first(name: "Lambda-Runtime-Function-Error-Type")
            reply(environment.initErrorPosted(body: body, errorType: errorType), context: context, head: head)
        default:
            reply(404, error: "UnknownOperation", message: "No Runtime API route \(head.method) \(path)", context: context, head: head)
        }
    }

    private func deliver(_ invocation: Invocation, keepAlive: Bool, context: ChannelHandlerContext) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Content-Length", value: String(invocation.payload.readableBytes))
        headers.add(name: "Lambda-Runtime-Aws-Request-Id", value: invocation.requestID)
        headers.add(name: "Lambda-Runtime-Deadline-Ms", value: String(environment.deadlineMilliseconds(for: invocation.requestID)))
        headers.add(name: "Lambda-Runtime-Invoked-Function-Arn", value: invocation.invokedFunctionARN)
        headers.add(name: "Lambda-Runtime-Trace-Id", value: Self.traceID(invocation.requestID))
        if let clientContext = invocation.clientContext {
            headers.add(name: "Lambda-Runtime-Client-Context", value: clientContext)
        }
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        write(status: .ok, headers: headers, body: invocation.payload, context: context)
    }

    private func reply(_ status: Int, error: String? = nil, message: String? = nil, context: ChannelHandlerContext, head: HTTPRequestHead) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        let text: String
        if let error {
            text = #"{"errorMessage":"\#(message ?? error)","errorType":"\#(error)"}"#
        } else if status == 202 {
            text = #"{"status":"OK"}"#
        } else {
            let (type, message) = Self.describe(status)
            text = #"{"errorMessage":"\#(message)","errorType":"\#(type)"}"#
        }
        var body = context.channel.allocator.buffer(capacity: text.utf8.count)
        body.writeString(text)
        headers.add(name: "Content-Length", value: String(body.readableBytes))
        if !head.isKeepAlive { headers.add(name: "Connection", value: "close") }
        write(status: HTTPResponseStatus(statusCode: status), headers: headers, body: body, context: context)
    }

    /// X-Ray's `Root=1-<8 hex>-<24 hex>` made from the request id, over its UTF-8 (per-character String
    /// filtering showed on the invoke path).
    static func traceID(_ requestID: String) -> String {
        let hex = requestID.utf8.filter { $0 != UInt8(ascii: "-") }
        return "Root=1-\(requestID.prefix(8))-\(String(decoding: hex.suffix(24), as: UTF8.self));Sampled=0"
    }

    static func describe(_ status: Int) -> (type: String, message: String) {
        switch status {
        case 400: ("InvalidRequestID", "Invalid request ID")
        case 403: ("InvalidStateTransition", "State transition is not allowed")
        default: ("Unknown", "Unexpected request")
        }
    }

    private func write(status: HTTPResponseStatus, headers: HTTPHeaders, body: ByteBuffer, context: ChannelHandlerContext) {
        let head = HTTPResponseHead(version: .http1_1, status: status, headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }
}
