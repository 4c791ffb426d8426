/// The Runtime API conversation with one execution environment, as a pure state machine.
///
/// The environment's process calls `/next`, `/response`, `/error` and `/init/error`; Aviary hands it
/// invocations and may time it out. Each input returns what to do; nothing here performs I/O, so every
/// ordering a misbehaving runtime can produce is tested synchronously.
struct RuntimeSession<NextReply, Completion> {
    enum State {
        /// No `/next` parked (just started, or between invocations). An invocation may already be waiting.
        case awaitingNext(pending: PendingInvocation?)
        /// A `/next` is parked, waiting for work.
        case idle(NextReply)
        /// An invocation was handed out (or is waiting for the next `/next`).
        case invoking(PendingInvocation, delivered: Bool)
        /// Init failed, timed out or the process exited: nothing more happens.
        case dead
    }

    struct PendingInvocation {
        let requestID: String
        let completion: Completion
    }

    enum Failure: Equatable {
        case initError(body: [UInt8], errorType: String?)
        case timedOut
        case exited(status: String)
    }

    private(set) var state: State = .awaitingNext(pending: nil)
    /// Whether the runtime reported an init error before dying.
    private(set) var initFailure: (body: [UInt8], errorType: String?)?

    // MARK: Inputs from the runtime process

    enum NextAction {
        /// Reply to this `/next` now with that invocation.
        case deliver(requestID: String)
        /// Keep the `/next` parked until an invocation arrives.
        case park
        /// Refuse: a `/next` while the previous invocation has no answer, or after death.
        case refuse
    }

    mutating func nextRequested(_ reply: NextReply) -> NextAction {
        switch state {
        case .awaitingNext(nil):
            state = .idle(reply)
            return .park
        case .awaitingNext(let pending?):
            state = .invoking(pending, delivered: true)
            return .deliver(requestID: pending.requestID)
        case .invoking(let pending, delivered: false):
            state = .invoking(pending, delivered: true)
            return .deliver(requestID: pending.requestID)
        case .idle, .invoking(_, delivered: true), .dead:
            return .refuse
        }
    }

    enum PostAction {
        /// Acknowledge with 202 and finish the invocation with this completion.
        case complete(Completion)
        /// 400: that request id is not the one in flight.
        case invalidRequestID
        /// 403: the call is not valid now (e.g. a response before `/next`, or twice).
        case invalidStateTransition
    }

    /// `/invocation/{id}/response` or `/invocation/{id}/error`.
    mutating func resultPosted(requestID: String) -> PostAction {
        guard case .invoking(let pending, delivered: true) = state else {
            if case .dead = state { return .invalidStateTransition }
            return .invalidStateTransition
        }
        guard pending.requestID == requestID else { return .invalidRequestID }
        state = .awaitingNext(pending: nil)
        return .complete(pending.completion)
    }

    /// `/init/error`: remembered, so the coming exit is reported with the runtime's own error.
    mutating func initErrorPosted(body: [UInt8], errorType: String?) -> Bool {
        switch state {
        case .awaitingNext, .idle:
            initFailure = (body, errorType)
            return true
        case .invoking(_, let delivered):
            guard !delivered else { return false }
            initFailure = (body, errorType)
            return true
        case .dead:
            return false
        }
    }

    // MARK: Inputs from Aviary

    enum InvokeAction {
        /// Answer this parked `/next` with the invocation.
        case deliver(NextReply)
        /// Wait for the runtime's next `/next`.
        case wait
        /// The environment cannot take work (busy or dead): use another.
        case unavailable
    }

    mutating func invoke(requestID: String, completion: Completion) -> InvokeAction {
        let pending = PendingInvocation(requestID: requestID, completion: completion)
        switch state {
        case .idle(let reply):
            state = .invoking(pending, delivered: true)
            return .deliver(reply)
        case .awaitingNext(nil):
            state = .awaitingNext(pending: pending)
            return .wait
        case .awaitingNext(.some), .invoking, .dead:
            return .unavailable
        }
    }

    /// The invocation ran out of time, the init took too long, or the process exited. Returns the
    /// completion to fail, if an invocation was in flight, and the parked `/next` to drop, if any.
    mutating func terminate() -> (completion: Completion?, parked: NextReply?) {
        defer { state = .dead }
        switch state {
        case .awaitingNext(let pending): return (pending?.completion, nil)
        case .idle(let reply): return (nil, reply)
        case .invoking(let pending, _): return (pending.completion, nil)
        case .dead: return (nil, nil)
        }
    }

    var isDead: Bool {
        if case .dead = state { return true }
        return false
    }

    /// True once the runtime has asked for work at least once and holds nothing in flight.
    var isIdle: Bool {
        if case .idle = state { return true }
        return false
    }
}
