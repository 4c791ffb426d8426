@testable import AviaryStore
import Synchronization
import Testing

@Suite struct GroupCommitTests {
    struct Failure: Error, Equatable { let job: Int }

    @Test func everyJobGetsItsOwnOutcomeAndConcurrentJobsShareBatches() async throws {
        let group = GroupCommit<Int>()
        let batches = Mutex<[[Int]]>([])
        let runBatch: @Sendable ([Int]) async -> [GroupCommit<Int>.Outcome] = { jobs in
            batches.withLock { $0.append(jobs) }
            try? await Task.sleep(for: .milliseconds(5))  // a commit takes time; others queue meanwhile
            return jobs.map { $0 % 3 == 0 ? .failure(Failure(job: $0)) : .success($0 * 10) }
        }
        let outcomes = await withTaskGroup(of: (Int, GroupCommit<Int>.Outcome).self) { tasks in
            for job in 1...60 { tasks.addTask { (job, await group.submit(job, runBatch: runBatch)) } }
            var all: [Int: GroupCommit<Int>.Outcome] = [:]
            for await (job, outcome) in tasks { all[job] = outcome }
            return all
        }
        #expect(outcomes.count == 60)
        for (job, outcome) in outcomes {
            switch outcome {
            case .success(let value): #expect(job % 3 != 0 && value as? Int == job * 10)
            case .failure(let error): #expect(job % 3 == 0 && error as? Failure == Failure(job: job))
            }
        }
        let seen = batches.withLock { $0 }
        #expect(seen.flatMap { $0 }.sorted() == Array(1...60), "every job runs exactly once")
        #expect(seen.count < 60, "concurrent jobs were batched (\(seen.count) batches)")
    }

    @Test func aLoneJobRunsAtOnce() async throws {
        let group = GroupCommit<String>()
        let outcome = await group.submit("solo") { jobs in jobs.map { .success($0.uppercased()) } }
        #expect(try outcome.get() as? String == "SOLO")
    }
}
