@testable import AviaryRuntime
import Testing

/// The Runtime API conversation with stand-ins for the parked `/next` (an Int) and the in-flight work (a String).
@Suite struct RuntimeSessionTests {
    typealias Session = RuntimeSession<Int, String>

    @Test func aWarmRuntimeGetsTheEventOnItsParkedNext() {
        var session = Session()
        guard case .park = session.nextRequested(1) else { Issue.record("first /next parks"); return }
        #expect(session.isIdle)
        guard case .deliver(let reply) = session.invoke(requestID: "a", completion: "work-a") else {
            Issue.record("an idle runtime takes the event at once"); return
        }
        #expect(reply == 1)
        guard case .complete(let work) = session.resultPosted(requestID: "a") else { Issue.record("result completes"); return }
        #expect(work == "work-a")
        #expect(!session.isIdle)
    }

    @Test func aColdStartDeliversOnTheFirstNext() {
        var session = Session()
        guard case .wait = session.invoke(requestID: "a", completion: "work-a") else { Issue.record("waits"); return }
        guard case .deliver(let id) = session.nextRequested(7) else { Issue.record("delivers"); return }
        #expect(id == "a")
    }

    @Test func aBusyEnvironmentRefusesASecondInvocation() {
        var session = Session()
        _ = session.nextRequested(1)
        _ = session.invoke(requestID: "a", completion: "work-a")
        guard case .unavailable = session.invoke(requestID: "b", completion: "work-b") else { Issue.record("busy"); return }
        var cold = Session()
        _ = cold.invoke(requestID: "a", completion: "work-a")
        guard case .unavailable = cold.invoke(requestID: "b", completion: "work-b") else { Issue.record("busy"); return }
    }

    @Test func resultsForAnotherRequestIDAreRejected() {
        var session = Session()
        _ = session.nextRequested(1)
        _ = session.invoke(requestID: "a", completion: "work-a")
        guard case .invalidRequestID = session.resultPosted(requestID: "b") else { Issue.record("400"); return }
        // The real answer still goes through afterwards.
        guard case .complete = session.resultPosted(requestID: "a") else { Issue.record("completes"); return }
    }

    @Test func outOfOrderCallsAreInvalidStateTransitions() {
        var session = Session()
        guard case .invalidStateTransition = session.resultPosted(requestID: "a") else { Issue.record("no work yet"); return }
        _ = session.nextRequested(1)
        guard case .refuse = session.nextRequested(2) else { Issue.record("two parked /next"); return }
        _ = session.invoke(requestID: "a", completion: "work-a")
        guard case .refuse = session.nextRequested(3) else { Issue.record("/next before answering"); return }
        _ = session.resultPosted(requestID: "a")
        guard case .invalidStateTransition = session.resultPosted(requestID: "a") else { Issue.record("answered twice"); return }
    }

    @Test func terminatingFailsTheWorkInFlightAndDropsTheParkedNext() {
        var busy = Session()
        _ = busy.nextRequested(1)
        _ = busy.invoke(requestID: "a", completion: "work-a")
        let (work, parked) = busy.terminate()
        #expect(work == "work-a" && parked == nil)
        #expect(busy.isDead)
        guard case .unavailable = busy.invoke(requestID: "b", completion: "work-b") else { Issue.record("dead"); return }
        guard case .refuse = busy.nextRequested(2) else { Issue.record("dead"); return }

        var idle = Session()
        _ = idle.nextRequested(9)
        let dropped = idle.terminate()
        #expect(dropped.completion == nil && dropped.parked == 9)
        let again = idle.terminate()
        #expect(again.completion == nil)
    }

    @Test func initErrorsAreKeptUntilTheProcessExits() {
        var session = Session()
        _ = session.invoke(requestID: "a", completion: "work-a")
        let accepted = session.initErrorPosted(body: Array("{}".utf8), errorType: "Runtime.ImportModuleError")
        #expect(accepted)
        #expect(session.initFailure?.errorType == "Runtime.ImportModuleError")
        var running = Session()
        _ = running.nextRequested(1)
        _ = running.invoke(requestID: "a", completion: "work-a")
        let late = running.initErrorPosted(body: [], errorType: nil)
        #expect(!late, "init errors are refused once an event was handed out")
    }
}
