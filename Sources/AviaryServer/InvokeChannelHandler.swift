import AviaryCore
import AviaryRuntime
import Foundation
import Hummingbird
public import HummingbirdCore
import HTTPTypes
public import Logging
import NIOCore
import NIOHTTPTypes
import Synchronization

/// The HTTP server Aviary runs: Hummingbird's HTTP/1.1 server, with Invoke answered by
/// `InvokeChannelHandler`. With `auth`, its signatures are checked as the router's `AuthMiddleware` checks
/// them.
public func aviaryHTTPServer(api: LambdaAPI, auth: AuthKeys?, logger: Logger) -> HTTPServerBuilder {
    let authentication = auth.map { AuthMiddleware(keys: $0, region: api.scope.region) }
    return .http1(configuration: .init(additionalChannelHandlers: [
        InvokeChannelHandler(api: api, authentication: authentication, logger: logger)
    ]))
}

/// Answers `RequestResponse` and `DryRun` Invoke requests on the connection's event loop, ahead of the
/// router; every other request passes through untouched.
///
/// Invoke is the hot path: through the router each call crossed Hummingbird's async channel bridge,
/// router and middleware and waited in a task, which cost more server time than the Runtime API's two
/// requests together. Here the event is handed to a warm environment from the event loop and the answer
/// written from the thread that receives the function's response (the same thread when the environment
/// is served on this connection's loop, as the pools prefer). The request is read and answered with the
/// router's own code (`LambdaAPI.invokeCall`, `plan`, `reply`), so both paths answer alike.
///
/// Order on a connection is kept: an Invoke is taken only when the router owes no response; requests
/// that arrive while an Invoke is answered wait (reading stops) and are handled after it.
final class InvokeChannelHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let api: LambdaAPI
    /// With `--auth`: the SigV4 check, the same as the router's.
    private let authentication: AuthMiddleware?
    private let logger: Logger

    private struct Invoke {
        let head: HTTPRequest
        let name: String
        var body: ByteBuffer
        var tooLarge = false
    }

    private enum State {
        case idle
        /// Reading an Invoke this handler answers.
        case reading(Invoke)
        /// An Invoke is read and its answer pending.
        case answering
        /// Passing a request's parts on to the router.
        case forwarding
    }

    private var state = State.idle
    /// Requests passed on to the router whose response has not been written yet.
    private var routerRequests = 0
    /// Parts read while an Invoke is answered.
    private var held = CircularBuffer<HTTPRequestPart>()
    private var draining = false
    /// A read the router asked for while an Invoke was answered: made once it is.
    private var readDeferred = false
    /// Graceful shutdown asked connections to finish while an Invoke was answered: passed on after it.
    private var quiesceDeferred = false
    /// A parse error that came after an Invoke being answered: the router answers it (400), after ours.
    private var errorDeferred: (any Error)?

    init(api: LambdaAPI, authentication: AuthMiddleware?, logger: Logger) {
        self.api = api
        self.authentication = authentication
        self.logger = logger
    }

    private var isAnswering: Bool {
        if case .answering = state { return true }
        return false
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if isAnswering || !held.isEmpty {
            held.append(part)
        } else {
            handle(part, context: context)
        }
    }

    /// Takes `part` as part of an Invoke answered here, or passes it on to the router (returns true).
    @discardableResult
    private func handle(_ part: HTTPRequestPart, context: ChannelHandlerContext) -> Bool {
        switch part {
        case .head(let head):
            if routerRequests == 0, let name = Self.invokedFunction(head) {
                state = .reading(Invoke(head: head, name: name, body: context.channel.allocator.buffer(capacity: 0)))
                return false
            }
            state = .forwarding
            routerRequests += 1
        case .body(var chunk):
            guard case .reading(var invoke) = state else { break }
            state = .idle  // the body buffer is now referenced once: appending does not copy it
            if invoke.tooLarge || invoke.body.readableBytes + chunk.readableBytes > LambdaAPI.maxInvokePayload {
                invoke.tooLarge = true
                invoke.body.clear()
            } else {
                invoke.body.writeBuffer(&chunk)
            }
            state = .reading(invoke)
            return false
        case .end:
            guard case .reading(let invoke) = state else {
                state = .idle
                break
            }
            state = .answering
            answer(invoke, context: context)
            return false
        }
        context.fireChannelRead(wrapInboundOut(part))
        return true
    }

    /// The function name segment of `POST /2015-03-31/functions/{name}/invocations`, for the invocation
    /// types answered here.
    static func invokedFunction(_ head: HTTPRequest) -> String? {
        guard head.method == .post, let path = head.path?.utf8 else { return nil }
        let end = path.firstIndex(of: UInt8(ascii: "?")) ?? path.endIndex
        let prefix = "/2015-03-31/functions/".utf8
        let suffix = "/invocations".utf8
        guard path.distance(from: path.startIndex, to: end) > prefix.count + suffix.count,
            path.starts(with: prefix), path[..<end].reversed().starts(with: suffix.reversed())
        else { return nil }
        let name = path[path.index(path.startIndex, offsetBy: prefix.count)..<path.index(end, offsetBy: -suffix.count)]
        guard !name.contains(UInt8(ascii: "/")) else { return nil }
        switch head.headerFields[.amzInvocationType] {
        case nil, "RequestResponse", "DryRun": return String(Substring(name))
        default: return nil
        }
    }

    // MARK: Answering

    private func answer(_ invoke: Invoke, context: ChannelHandlerContext) {
        let requestID = FastRandom.uuid()
        let started = ContinuousClock.now
        let closing = invoke.head.headerFields[.connection]?.lowercased() == "close"
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        let finish: @Sendable (Result<LambdaAPI.InvokeReply, any Error>) -> Void = { [logger] result in
            let reply: LambdaAPI.InvokeReply
            switch result {
            case .success(let success): reply = success
            case .failure(let error as LambdaError): reply = error.reply(requestID: requestID)
            case .failure(let error):
                logger.error("request failed", metadata: ["error": "\(error)", "path": "\(invoke.head.path ?? "")", "request_id": "\(requestID)"])
                reply = LambdaError(.service, "An internal error occurred (request id \(requestID)).").reply(requestID: requestID)
            }
            if eventLoop.inEventLoop {
                let (handler, context) = bound.value
                handler.respond(reply, requestID: requestID, started: started, closing: closing, head: invoke.head, context: context)
            } else {
                eventLoop.execute {
                    let (handler, context) = bound.value
                    handler.respond(reply, requestID: requestID, started: started, closing: closing, head: invoke.head, context: context)
                }
            }
        }
        if let authentication {
            do throws(AuthFailure) {
                // An oversized body was dropped while read: refused below, as the route refuses it.
                try authentication.checkLambdaSignature(invoke.head, body: invoke.tooLarge ? nil : invoke.body)
            } catch {
                logger.debug("refused: \(error.code)", metadata: ["path": "\(invoke.head.path ?? "")", "request_id": "\(requestID)"])
                return finish(.success(error.reply(for: .lambda)))
            }
        }
        if invoke.tooLarge { return finish(.failure(LambdaAPI.payloadTooLarge())) }
        do {
            let call = try api.invokeCall(
                name: invoke.name, qualifier: URI(invoke.head.path ?? "").queryParameters.get("Qualifier"),
                headers: invoke.head.headerFields)
            api.invoke(call, payload: invoke.body, requestID: requestID, completion: finish)
        } catch {
            finish(.failure(error))
        }
    }

    /// Writes the answer with the headers the router's responses carry, then takes up what waited.
    private func respond(
        _ reply: LambdaAPI.InvokeReply, requestID: String, started: ContinuousClock.Instant, closing: Bool,
        head: HTTPRequest, context: ChannelHandlerContext
    ) {
        var headers = reply.headers
        headers[.amznRequestID] = requestID
        headers[.contentLength] = String(reply.body.readableBytes)
        headers[.date] = HTTPDate.now()
        headers[.server] = "aviary"
        if closing { headers[.connection] = "close" }
        context.write(wrapOutboundOut(.head(HTTPResponse(status: reply.status, headerFields: headers))), promise: nil)
        if reply.body.readableBytes > 0 { context.write(wrapOutboundOut(.body(reply.body)), promise: nil) }
        if logger.logLevel <= .debug {
            logger.debug(
                "\(head.method) \(head.path ?? "") \(reply.status.code)",
                metadata: ["request_id": "\(requestID)", "ms": "\((ContinuousClock.now - started).milliseconds)"])
        }
        state = .idle
        if closing {
            held.removeAll()
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { [channel = context.channel] _ in
                channel.close(promise: nil)
            }
            return
        }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        if quiesceDeferred, held.isEmpty {
            quiesceDeferred = false
            context.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        }
        drain(context: context)
    }

    private func drain(context: ChannelHandlerContext) {
        guard !draining else { return }
        draining = true
        var passedOn = false
        while !isAnswering, let part = held.popFirst() {
            passedOn = handle(part, context: context) || passedOn
        }
        // The router's channel hands reads on when a read completes: this is outside a read.
        if passedOn { context.fireChannelReadComplete() }
        if !isAnswering, held.isEmpty, let error = errorDeferred {
            errorDeferred = nil
            context.fireErrorCaught(error)
        }
        draining = false
        if !isAnswering, readDeferred {
            readDeferred = false
            context.read()
        }
    }

    // MARK: Outbound and events

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { routerRequests = max(0, routerRequests - 1) }
        context.write(data, promise: promise)
    }

    /// Stops reading while an Invoke is answered, so a client that sends ahead cannot pile up requests.
    func read(context: ChannelHandlerContext) {
        if isAnswering {
            readDeferred = true
        } else {
            context.read()
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent, isAnswering {
            quiesceDeferred = true
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if isAnswering || !held.isEmpty {
            errorDeferred = errorDeferred ?? error
        } else {
            context.fireErrorCaught(error)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        held.removeAll()
        context.fireChannelInactive()
    }
}

/// The `Date` header's value (RFC 9110 IMF-fixdate), formatted once a second.
enum HTTPDate {
    private static let cache = Mutex<(second: Int, text: String)>((-1, ""))

    static func now() -> String {
        var seconds = time(nil)
        return cache.withLock { cache in
            if cache.second != seconds {
                var parts = tm()
                gmtime_r(&seconds, &parts)
                let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
                let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
                func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
                cache = (
                    seconds,
                    "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
                        + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
                )
            }
            return cache.text
        }
    }
}
