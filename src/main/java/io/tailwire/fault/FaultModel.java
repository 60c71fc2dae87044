package io.tailwire.fault;

/**
 * What one direction of a link does to datagrams. Mutable with fluent setters so a scenario can change
 * conditions mid-run (the link reads it on every send). All probabilities are per datagram; all times
 * are nanoseconds. The default is a perfect link: no delay, no loss, unlimited bandwidth.
 *
 * <p>Order applied on send: partition, bottleneck queue (tail drop), Bernoulli loss, Gilbert-Elliott
 * loss, duplication; then per copy: delay + jitter, reordering extra delay, corruption. A partition is
 * checked again at arrival so a packet in flight when the link is cut is lost too. A policer (rate and
 * bucket, udp-chaos's {@code --rate}) drops what exceeds its tokens right after Bernoulli loss.
 *
 * <p>This is the one fault model: the simulators' links, the engine tests' virtual network and udp-chaos
 * all decide through {@link FaultLane}, which applies it to one direction's datagrams.
 */
public final class FaultModel {
    double lossProbability;

    // Gilbert-Elliott: a two-state Markov chain stepped once per datagram; each state has its own loss.
    boolean gilbertElliott;
    double pGoodToBad;
    double pBadToGood;
    double lossInGood;
    double lossInBad;

    double duplicateProbability;

    double reorderProbability;
    long reorderMaxExtraNanos;

    long delayNanos;
    long jitterNanos;

    double corruptProbability;
    int corruptMaxBitFlips = 1;

    long bandwidthBytesPerSecond; // 0 = unlimited
    long queueLimitBytes = Long.MAX_VALUE;

    long policeBytesPerSecond; // 0 = no policer
    long policeBurstBytes;

    public static FaultModel perfect() {
        return new FaultModel();
    }

    public FaultModel copy() {
        FaultModel m = new FaultModel();
        m.lossProbability = lossProbability;
        m.gilbertElliott = gilbertElliott;
        m.pGoodToBad = pGoodToBad;
        m.pBadToGood = pBadToGood;
        m.lossInGood = lossInGood;
        m.lossInBad = lossInBad;
        m.duplicateProbability = duplicateProbability;
        m.reorderProbability = reorderProbability;
        m.reorderMaxExtraNanos = reorderMaxExtraNanos;
        m.delayNanos = delayNanos;
        m.jitterNanos = jitterNanos;
        m.corruptProbability = corruptProbability;
        m.corruptMaxBitFlips = corruptMaxBitFlips;
        m.bandwidthBytesPerSecond = bandwidthBytesPerSecond;
        m.queueLimitBytes = queueLimitBytes;
        m.policeBytesPerSecond = policeBytesPerSecond;
        m.policeBurstBytes = policeBurstBytes;
        return m;
    }

    /** Independent (Bernoulli) loss. */
    public FaultModel loss(double probability) {
        this.lossProbability = checkP(probability);
        return this;
    }

    /**
     * Bursty loss. Mean burst (time in bad state) is 1 / pBadToGood datagrams; the long-run fraction of
     * time in the bad state is pGoodToBad / (pGoodToBad + pBadToGood).
     */
    public FaultModel gilbertElliott(double pGoodToBad, double pBadToGood, double lossInGood, double lossInBad) {
        this.gilbertElliott = true;
        this.pGoodToBad = checkP(pGoodToBad);
        this.pBadToGood = checkP(pBadToGood);
        this.lossInGood = checkP(lossInGood);
        this.lossInBad = checkP(lossInBad);
        return this;
    }

    public FaultModel noGilbertElliott() {
        this.gilbertElliott = false;
        return this;
    }

    /** Probability that a datagram is delivered twice (each copy with its own delay). */
    public FaultModel duplicate(double probability) {
        this.duplicateProbability = checkP(probability);
        return this;
    }

    /** A fraction of datagrams gets an extra delay uniform in [1, maxExtraNanos], overtaking nothing else. */
    public FaultModel reorder(double probability, long maxExtraNanos) {
        this.reorderProbability = checkP(probability);
        this.reorderMaxExtraNanos = checkNonNegative(maxExtraNanos);
        return this;
    }

    /** One-way propagation delay plus a jitter uniform in [0, jitterNanos]. */
    public FaultModel delay(long delayNanos, long jitterNanos) {
        this.delayNanos = checkNonNegative(delayNanos);
        this.jitterNanos = checkNonNegative(jitterNanos);
        return this;
    }

    /** A fraction of datagrams arrives with 1..maxBitFlips distinct bits flipped (CRC32C must catch them). */
    public FaultModel corrupt(double probability, int maxBitFlips) {
        if (maxBitFlips < 1) {
            throw new IllegalArgumentException("maxBitFlips " + maxBitFlips);
        }
        this.corruptProbability = checkP(probability);
        this.corruptMaxBitFlips = maxBitFlips;
        return this;
    }

    /**
     * A bottleneck: datagrams are serialised at bytesPerSecond through a FIFO holding at most
     * queueLimitBytes (the datagram being transmitted included); arrivals that do not fit are tail-dropped.
     * bytesPerSecond 0 means unlimited.
     */
    public FaultModel bottleneck(long bytesPerSecond, long queueLimitBytes) {
        this.bandwidthBytesPerSecond = checkNonNegative(bytesPerSecond);
        this.queueLimitBytes = checkNonNegative(queueLimitBytes);
        return this;
    }

    /**
     * A token-bucket policer: datagrams that find fewer tokens than their length are dropped (no queueing,
     * unlike {@link #bottleneck}). The bucket starts full and holds burstBytes. bytesPerSecond 0 means none.
     */
    public FaultModel police(long bytesPerSecond, long burstBytes) {
        this.policeBytesPerSecond = checkNonNegative(bytesPerSecond);
        this.policeBurstBytes = checkNonNegative(burstBytes);
        return this;
    }

    public double lossProbability() {
        return lossProbability;
    }

    public long delayNanos() {
        return delayNanos;
    }

    public long jitterNanos() {
        return jitterNanos;
    }

    public long bandwidthBytesPerSecond() {
        return bandwidthBytesPerSecond;
    }

    public long queueLimitBytes() {
        return queueLimitBytes;
    }

    private static double checkP(double p) {
        if (!(p >= 0 && p <= 1)) {
            throw new IllegalArgumentException("probability " + p);
        }
        return p;
    }

    private static long checkNonNegative(long v) {
        if (v < 0) {
            throw new IllegalArgumentException("negative " + v);
        }
        return v;
    }
}
