import Synchronization

/// Batches concurrent writes so that many of them share one transaction and one disk sync.
///
/// Whoever submits a write while no batch is running becomes the leader: it takes every pending write,
/// runs them as one batch, completes each, and hands leadership to the oldest write still waiting (so no
/// caller ends up working for others indefinitely). Followers simply wait for their outcome. No task is
/// spawned: batches run on the callers' own tasks.
final class GroupCommit<Job: Sendable>: Sendable {
    typealias Outcome = Result<any Sendable, any Error>

    private let queue = Mutex<(pending: [(Job, Ticket)], leaderActive: Bool)>(([], false))

    init() {}

    /// Submits `job` and returns its outcome once the batch holding it is committed.
    ///
    /// - Parameter runBatch: runs one batch and returns one outcome per job, in order. Every caller of
    ///   one `GroupCommit` must pass the same function: whichever caller leads runs the batch with its own.
    func submit(_ job: Job, runBatch: ([Job]) async -> [Outcome]) async -> Outcome {
        let ticket = Ticket()
        let leads = queue.withLock { queue in
            queue.pending.append((job, ticket))
            if queue.leaderActive { return false }
            queue.leaderActive = true
            return true
        }
        if leads { await lead(runBatch) }
        while true {
            switch await ticket.wait() {
            case .finished(let outcome): return outcome
            case .lead: await lead(runBatch)
            }
        }
    }

    private func lead(_ runBatch: ([Job]) async -> [Outcome]) async {
        let batch = queue.withLock { queue in
            defer { queue.pending.removeAll(keepingCapacity: true) }
            return queue.pending
        }
        if !batch.isEmpty {
            let outcomes = await runBatch(batch.map(\.0))
            for ((_, ticket), outcome) in zip(batch, outcomes) { ticket.signal(.finished(outcome)) }
        }
        let next = queue.withLock { queue -> Ticket? in
            guard let first = queue.pending.first else {
                queue.leaderActive = false
                return nil
            }
            return first.1
        }
        next?.signal(.lead)
    }

    /// A one-shot mailbox between the leader and one waiting writer.
    final class Ticket: Sendable {
        enum Signal: Sendable {
            case finished(Outcome)
            case lead
        }

        private let state = Mutex<(signal: Signal?, waiter: CheckedContinuation<Signal, Never>?)>((nil, nil))

        func wait() async -> Signal {
            await withCheckedContinuation { continuation in
                let ready = state.withLock { state -> Signal? in
                    if let signal = state.signal {
                        state.signal = nil
                        return signal
                    }
                    state.waiter = continuation
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        }

        func signal(_ signal: Signal) {
            let waiter = state.withLock { state -> CheckedContinuation<Signal, Never>? in
                if let waiter = state.waiter {
                    state.waiter = nil
                    return waiter
                }
                state.signal = signal
                return nil
            }
            waiter?.resume(returning: signal)
        }
    }
}
