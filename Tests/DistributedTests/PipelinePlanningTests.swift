import Training
import XCTest

/// The 1F1B schedule and the stage partition, checked against their defining properties.
final class PipelinePlanningTests: XCTestCase {
    func testOneForwardOneBackwardRunsEveryMicroBatchOnceInDependencyOrder() {
        for stages in 1...4 {
            for micro in 1...6 {
                for stage in 0..<stages {
                    let ops = PipelineSchedule.oneForwardOneBackward(stage: stage, stages: stages, microBatches: micro)
                    XCTAssertEqual(ops.count, 2 * micro)
                    var forwards: [Int] = [], backwards: [Int] = [], inFlight = 0, peak = 0
                    for op in ops {
                        switch op {
                        case .forward(let m): forwards.append(m); inFlight += 1
                        case .backward(let m): XCTAssertTrue(forwards.contains(m), "backward \(m) before its forward"); backwards.append(m); inFlight -= 1
                        }
                        peak = max(peak, inFlight)
                    }
                    XCTAssertEqual(forwards, Array(0..<micro))
                    XCTAssertEqual(backwards, Array(0..<micro))
                    XCTAssertEqual(peak, PipelineSchedule.activationSlots(stage: stage, stages: stages, microBatches: micro))
                }
            }
        }
        // the last stage alternates from the start, the first warms up with stages - 1 forwards
        XCTAssertEqual(PipelineSchedule.oneForwardOneBackward(stage: 1, stages: 2, microBatches: 2), [.forward(0), .backward(0), .forward(1), .backward(1)])
        XCTAssertEqual(PipelineSchedule.oneForwardOneBackward(stage: 0, stages: 2, microBatches: 2), [.forward(0), .forward(1), .backward(0), .backward(1)])
    }

    func testStagePartitionIsContiguousAndMinimisesTheLargestStage() throws {
        XCTAssertEqual(try StagePartition.ranges(blocks: 4, stages: 2, blockCost: 1, headCost: 0), [0..<2, 2..<4])
        // a head worth 3.5 blocks: the last stage keeps one block (cost 4.5 vs 5 for the first; 4 | 2 would cost 5.5)
        XCTAssertEqual(try StagePartition.ranges(blocks: 6, stages: 2, blockCost: 1, headCost: 3.5), [0..<5, 5..<6])
        XCTAssertEqual(try StagePartition.ranges(blocks: 3, stages: 3, blockCost: 1, headCost: 100), [0..<1, 1..<2, 2..<3])
        XCTAssertThrowsError(try StagePartition.ranges(blocks: 2, stages: 3, blockCost: 1, headCost: 0))
        XCTAssertEqual(ParallelLayout(dataParallel: 1, pipelineStages: 2, microBatches: 4).theoreticalBubble, 0.2, accuracy: 1e-12)
        XCTAssertThrowsError(try ParallelLayout(dataParallel: 2, pipelineStages: 2).validate(worldSize: 2))
        XCTAssertThrowsError(try ParallelLayout(dataParallel: 2, pipelineStages: 1).validate(batch: 3, blocks: 4))
    }
}
