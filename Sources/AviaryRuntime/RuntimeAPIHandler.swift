import NIOCore
import NIOHTTP1

/// Serves the Lambda Runtime API (`/2018-06-01/runtime/…`) to one environment's process.
///
/// Behind NIO's request decoder only: responses are encoded here as bytes, written once each, with
/// `Content-Type: application/json` exactly (the official Python client decodes nothing else), on a
/// keep-alive connection with Nagle off. NIO's response encoder, header validation and pipelining
/// handlers cost about a tenth of the server's time per invocation; the few responses of this API are
/// simple enough to write directly, so this handler does their work: requests are answered in order
/// (one that arrives while a `/next` is parked waits its turn), `Expect: 100-continue` is answered,
/// `Connection: close` honoured, and a request NIO cannot parse gets a 400 and the connection is closed.
final class RuntimeAPIHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = ByteBuffer

    /// The largest response or error body a function may post: AWS's 6 MB plus 100 bytes.
    static let maxBodyBytes = 6_291_556
    static let prefix = "/2018-06-01/runtime/"

    private let environment: ExecutionEnvironment

    private struct Request {
        let head: HTTPRequestHead
        var body: ByteBuffer
        var bodyTooLarge = false
    }

    /// The request being read.
    private var reading: Request?
    /// Requests read in full while an earlier one (a parked `/next`) has no answer yet. Runtimes do not
    /// pipeline; one that queues more than `maxWaiting` is cut off.
    private var waiting = CircularBuffer<Request>()
    static let maxWaiting = 32
    /// Whether a request has been routed and not yet answered.
    private var answering = false
    /// Whether waiting requests are being answered (replies do not recurse into the next one).
    private var draining = false
    private var closed = false

    init(environment: ExecutionEnvironment) {
        self.environment = environment
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            reading = Request(head: head, body: context.channel.allocator.buffer(capacity: 0))
            if head.version.minor >= 1, let expect = head.headers.first(name: "Expect"),
                expect.lowercased() == "100-continue"
            {
                context.writeAndFlush(wrapOutboundOut(Self.continueBytes), promise: nil)
            }
        case .body(var chunk):
            guard reading != nil else { return }
            if reading!.bodyTooLarge || reading!.body.readableBytes + chunk.readableBytes > Self.maxBodyBytes {
                reading!.bodyTooLarge = true
                reading!.body.clear()
            } else {
                reading!.body.writeBuffer(&chunk)
            }
        case .end:
            guard let request = reading else { return }
            reading = nil
            if answering {
                guard waiting.count < Self.maxWaiting else {
                    closed = true
                    waiting.removeAll()
                    return context.close(promise: nil)
                }
                waiting.append(request)
            } else {
                route(request, context: context)
            }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // Only the request decoder throws here: the bytes are not HTTP. Answer if nothing is outstanding,
        // then close; the environment itself is not affected.
        guard !closed else { return }
        closed = true
        if !answering {
            let body = Self.errorJSON(type: "InvalidRequest", message: "The request is not valid HTTP")
            let bytes = Self.encode(status: "400 Bad Request", headers: [], body: body, close: true, allocator: context.channel.allocator)
            context.writeAndFlush(wrapOutboundOut(bytes)).whenComplete { [channel = context.channel] _ in channel.close(promise: nil) }
        } else {
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        closed = true
        waiting.removeAll()
        context.fireChannelInactive()
    }

    private func route(_ request: Request, context: ChannelHandlerContext) {
        answering = true
        let head = request.head
        // Over the URI's UTF-8: Character-based searching (grapheme breaking) showed on this path.
        let uri = head.uri.utf8
        let path = uri[..<(uri.firstIndex(of: UInt8(ascii: "?")) ?? uri.endIndex)]
        guard path.starts(with: Self.prefix.utf8) else {
            return reply(404, error: "UnknownOperation", message: "No Runtime API route \(head.method) \(Substring(path))", to: head, context: context)
        }
        let route = path.dropFirst(Self.prefix.utf8.count)
        let invocation = "invocation/".utf8
        if head.method == .GET, route.elementsEqual("invocation/next".utf8) {
            let promise = context.eventLoop.makePromise(of: Invocation?.self)
            // The promise completes on this channel's event loop, where handler and context may be used.
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            promise.futureResult.whenSuccess { invocation in
                let (handler, context) = bound.value
                if let invocation {
                    handler.deliver(invocation, to: head, context: context)
                } else {
                    handler.reply(403, error: "InvalidStateTransition", message: "The environment is shutting down", to: head, context: context)
                }
            }
            environment.nextRequested(promise)
        } else if head.method == .POST, route.elementsEqual("init/error".utf8) {
            let errorType = head.headers.first(name: "Lambda-Runtime-Function-Error-Type")
            reply(environment.initErrorPosted(body: request.body, errorType: errorType), to: head, context: context)
        } else if head.method == .POST, route.starts(with: invocation), let slash = route.lastIndex(of: UInt8(ascii: "/")),
            case let action = route[route.index(after: slash)...],
            case let isError = action.elementsEqual("error".utf8), isError || action.elementsEqual("response".utf8),
            case let requestID = route[route.index(route.startIndex, offsetBy: invocation.count)..<slash],
            !requestID.isEmpty, !requestID.contains(UInt8(ascii: "/"))
        {
            let requestID = String(Substring(requestID))
            if request.bodyTooLarge {
                environment.responseTooLarge(requestID: requestID)
                return reply(
                    413, error: "RequestEntityTooLarge",
                    message: "Response payload size exceeded maximum allowed payload size (\(Self.maxBodyBytes) bytes).",
                    to: head, context: context)
            }
            let errorType = head.headers.first(name: "Lambda-Runtime-Function-Error-Type")
            let status = environment.resultPosted(requestID: requestID, body: request.body, isError: isError, errorType: errorType)
            reply(status, to: head, context: context)
        } else {
            reply(404, error: "UnknownOperation", message: "No Runtime API route \(head.method) \(Substring(path))", to: head, context: context)
        }
    }

    private func deliver(_ invocation: Invocation, to head: HTTPRequestHead, context: ChannelHandlerContext) {
        var headers: [(String, String)] = [
            ("Lambda-Runtime-Aws-Request-Id", invocation.requestID),
            ("Lambda-Runtime-Deadline-Ms", String(environment.deadlineMilliseconds(for: invocation.requestID))),
            ("Lambda-Runtime-Invoked-Function-Arn", invocation.invokedFunctionARN),
            ("Lambda-Runtime-Trace-Id", Self.traceID(invocation.requestID)),
        ]
        if let clientContext = invocation.clientContext {
            headers.append(("Lambda-Runtime-Client-Context", clientContext))
        }
        send(Self.encode(status: "200 OK", headers: headers, body: invocation.payload, close: !head.isKeepAlive, allocator: context.channel.allocator), closing: !head.isKeepAlive, context: context)
    }

    private func reply(_ status: Int, error: String? = nil, message: String? = nil, to head: HTTPRequestHead, context: ChannelHandlerContext) {
        let close = !head.isKeepAlive
        if status == 202, error == nil {
            return send(close ? Self.acceptedClosingBytes : Self.acceptedBytes, closing: close, context: context)
        }
        let body: ByteBuffer
        if let error {
            body = Self.errorJSON(type: error, message: message ?? error)
        } else {
            let (type, message) = Self.describe(status)
            body = Self.errorJSON(type: type, message: message)
        }
        send(Self.encode(status: Self.statusLine(status), headers: [], body: body, close: close, allocator: context.channel.allocator), closing: close, context: context)
    }

    /// Writes one whole response, then answers the next waiting request, if any.
    private func send(_ bytes: ByteBuffer, closing: Bool, context: ChannelHandlerContext) {
        answering = false
        guard !closed else { return }
        if closing {
            closed = true
            waiting.removeAll()
            context.writeAndFlush(wrapOutboundOut(bytes)).whenComplete { [channel = context.channel] _ in channel.close(promise: nil) }
            return
        }
        context.writeAndFlush(wrapOutboundOut(bytes), promise: nil)
        guard !draining else { return }
        draining = true
        while !answering, !closed, let next = waiting.popFirst() {
            route(next, context: context)
        }
        draining = false
    }

    // MARK: Encoding

    /// `HTTP/1.1 <status>` with `Content-Type: application/json`, `Content-Length` and `headers`, then the
    /// body, in one buffer. Header values are the server's own (request ids, ARNs, deadlines) except the
    /// client context, which the invoker supplies: control characters in values become spaces (JSON
    /// reads them as the whitespace they are), so no value can end the header early.
    static func encode(
        status: String, headers: [(String, String)], body: ByteBuffer, close: Bool, allocator: ByteBufferAllocator
    ) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 160 + headers.reduce(0) { $0 + $1.0.utf8.count + $1.1.utf8.count + 4 } + body.readableBytes)
        buffer.writeString("HTTP/1.1 ")
        buffer.writeString(status)
        buffer.writeString("\r\nContent-Type: application/json\r\nContent-Length: ")
        buffer.writeString(String(body.readableBytes))
        for (name, value) in headers {
            buffer.writeString("\r\n")
            buffer.writeString(name)
            buffer.writeString(": ")
            if value.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) {
                buffer.writeBytes(value.utf8.map { $0 < 0x20 || $0 == 0x7F ? UInt8(ascii: " ") : $0 })
            } else {
                buffer.writeString(value)
            }
        }
        buffer.writeString(close ? "\r\nConnection: close\r\n\r\n" : "\r\n\r\n")
        var payload = body
        buffer.writeBuffer(&payload)
        return buffer
    }

    /// Off the hot path (refusals only): Foundation escapes what a runtime put in a path it sent.
    static func errorJSON(type: String, message: String) -> ByteBuffer {
        ExecutionEnvironment.json(["errorMessage": message, "errorType": type])
    }

    static func statusLine(_ status: Int) -> String {
        switch status {
        case 400: "400 Bad Request"
        case 403: "403 Forbidden"
        case 404: "404 Not Found"
        case 413: "413 Payload Too Large"
        default: "\(status) \(HTTPResponseStatus(statusCode: status).reasonPhrase)"
        }
    }

    static let acceptedBytes = encode(
        status: "202 Accepted", headers: [], body: ByteBuffer(string: #"{"status":"OK"}"#), close: false, allocator: .init())
    static let acceptedClosingBytes = encode(
        status: "202 Accepted", headers: [], body: ByteBuffer(string: #"{"status":"OK"}"#), close: true, allocator: .init())
    static let continueBytes = ByteBuffer(string: "HTTP/1.1 100 Continue\r\n\r\n")

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
}
