public import AviaryCore
import AviaryRuntime
import AviaryStore
import Foundation
import Logging
import Synchronization

extension DeploymentEngine {
    /// Invokes a hook function asynchronously (durably queued, as CodeDeploy does) with CodeDeploy's
    /// payload plus what CodeDeploy leaves out: the function, alias and both versions.
    func invokeHook(_ execution: HookExecution, of deployment: Deployment) async {
        let payload: [String: String] = [
            "DeploymentId": deployment.id.rawValue,
            "LifecycleEventHookExecutionId": execution.id,
            "LifecycleEvent": execution.kind.rawValue,
            "FunctionName": deployment.function.rawValue,
            "Alias": deployment.alias.rawValue,
            "CurrentVersion": deployment.fromVersion.description,
            "TargetVersion": deployment.toVersion.description,
        ]
        do {
            let qualifier = try execution.target.qualifier.map { raw throws(LambdaError) in try Qualifier(validating: raw) }
            let body = try JSONSerialization.data(withJSONObject: payload, options: [.sortedKeys])
            try await events.enqueue(
                function: execution.target.function, qualifier: qualifier, payload: body,
                requestID: UUID().uuidString.lowercased())
        } catch {
            // The hook then times out and the deployment rolls back: nothing shifts untested.
            logger.error("could not invoke hook \(execution.target)", metadata: metadata(deployment).merging(["error": "\(error)"]) { $1 })
        }
    }

    /// A hook's report, through Aviary's API or CodeDeploy's `PutLifecycleEventHookExecutionStatus`.
    /// Errors carry CodeDeploy's codes.
    public func reportHook(deploymentID rawID: String, executionID: String, status: String) async throws -> Deployment {
        guard !rawID.isEmpty else { throw HookReportError("DeploymentIdRequiredException", "Deployment ID is required.") }
        guard let id = DeploymentID(rawID) else {
            throw HookReportError("InvalidDeploymentIdException", "Specified DeploymentId is not in the valid format: \(rawID)")
        }
        guard status == "Succeeded" || status == "Failed" else {
            throw HookReportError(
                "InvalidLifecycleEventHookExecutionStatusException",
                "The lifecycle event hook execution status must be Succeeded or Failed, not \(status)")
        }
        var deployment = watched.withLock { $0.deployments[id]?.deployment }
        if deployment == nil { deployment = try await store.deployment(id) }
        guard let deployment else {
            throw HookReportError("DeploymentDoesNotExistException", "The deployment \(rawID) could not be found.")
        }
        if let earlier = deployment.earlierHooks.first(where: { $0.id == executionID }) {
            throw HookReportError(
                "LifecycleEventAlreadyCompletedException",
                "The lifecycle event hook execution \(executionID) has already completed (\(earlier.state.rawValue)).")
        }
        guard let hook = deployment.hook, hook.id == executionID else {
            throw HookReportError(
                "InvalidLifecycleEventHookExecutionIdException",
                "The lifecycle event hook execution id \(executionID) is not valid for deployment \(rawID).")
        }
        guard hook.state == .inProgress, deployment.isActive else {
            throw HookReportError(
                "LifecycleEventAlreadyCompletedException",
                "The lifecycle event hook execution \(executionID) has already completed (\(hook.state.rawValue)).")
        }
        return try await submit { .event(id, .hookReported(executionID: executionID, succeeded: status == "Succeeded"), $0) }
    }
}
