package hudson.util

/** Mirrors hudson.util.DescribableList (Jenkins core, core/src/main/java/hudson/util/DescribableList.java): get(Class). */
class DescribableList {
    private final List data

    DescribableList(List data) {
        this.data = new ArrayList(data)
    }

    /** Real: the first element of that type, or null. */
    public <T> T get(Class<T> type) {
        return (T) data.find { type.isInstance(it) }
    }
}
