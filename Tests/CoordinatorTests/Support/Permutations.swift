/// Every ordering of `items` (Heap's algorithm); fine for the handful of replies a quorum test enumerates.
func permutations<T>(_ items: [T]) -> [[T]] {
    var result: [[T]] = []
    var array = items
    func generate(_ k: Int) {
        if k <= 1 {
            result.append(array)
            return
        }
        for i in 0..<k {
            generate(k - 1)
            array.swapAt(k % 2 == 0 ? i : 0, k - 1)
        }
    }
    generate(array.count)
    return result
}

/// Every way to give each of `count` positions one of `choices`.
func assignments<T>(_ choices: [T], count: Int) -> [[T]] {
    guard count > 0 else { return [[]] }
    return assignments(choices, count: count - 1).flatMap { prefix in choices.map { prefix + [$0] } }
}
