import AviaryCore
import Synchronization

extension DeploymentEngine {
    /// What a transition from `before` to `after` (with `effects`) is worth announcing, in order; a new
    /// deployment (no `before`) has started.
    static func notifications(_ after: Deployment, since before: Deployment?, effects: [DeploymentEffect]) -> [DeploymentNotification.Event] {
        guard let before else { return [.started] }
        var events: [DeploymentNotification.Event] = []
        let decided = after.approval?.decision
        if after.approval != nil, before.approval == nil, decided?.via != "policy" { events.append(.awaitingApproval) }
        if decided?.kind == .approved, before.approval?.decision == nil { events.append(.approved) }
        if after.status == .shifting, before.status != .shifting || before.stepIndex != after.stepIndex { events.append(.stepChanged) }
        if effects.contains(.promote) { events.append(.promoted) }
        if after.status == .rolledBack, before.status != .rolledBack { events.append(.rolledBack) }
        if after.status == .failed, before.status != .failed { events.append(.failed) }
        return events
    }

    /// Hands the transition's announcements to the notifier (which never blocks the engine).
    func announce(_ after: Deployment, since before: Deployment?, effects: [DeploymentEffect] = []) {
        guard let notifier, !after.notify.isEmpty else { return }
        let time = now()
        for event in Self.notifications(after, since: before, effects: effects) {
            let report: HealthReport? =
                switch event {
                case .rolledBack, .failed: after.outcome?.report ?? judgeReport(after.id)
                case .started: nil
                default: judgeReport(after.id)
                }
            let links = event == .awaitingApproval ? signer.links(for: after) : nil
            notifier.send(DeploymentNotification(event: event, deployment: after, links: links, report: report, at: time))
        }
    }

    private func judgeReport(_ id: DeploymentID) -> HealthReport? {
        let time = now()
        return watched.withLock { $0.deployments[id]?.judge.report(at: time) }
    }
}
