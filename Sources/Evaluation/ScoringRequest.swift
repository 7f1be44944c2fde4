/// A context and the continuations whose log-probabilities are wanted after it (the label words
/// after one sentiment prompt, or the choices that share one question's context).
public struct ScoringRequest: Equatable, Sendable {
    public var context: [Int32]
    public var continuations: [[Int32]]

    public init(context: [Int32], continuations: [[Int32]]) {
        self.context = context
        self.continuations = continuations
    }

    /// `pairs` in order, consecutive pairs with the same context sharing one request; also returns,
    /// for each pair, its (request, continuation) index.
    public static func grouping(_ pairs: [ContextContinuation]) -> (requests: [ScoringRequest], indices: [(request: Int, continuation: Int)]) {
        var requests: [ScoringRequest] = [], indices: [(Int, Int)] = []
        for pair in pairs {
            if let last = requests.last, last.context == pair.context {
                requests[requests.count - 1].continuations.append(pair.continuation)
            } else {
                requests.append(ScoringRequest(context: pair.context, continuations: [pair.continuation]))
            }
            indices.append((requests.count - 1, requests[requests.count - 1].continuations.count - 1))
        }
        return (requests, indices)
    }
}
