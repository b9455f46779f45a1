package dev.safeload.cli;

import java.util.List;

/**
 * Columns separated by two spaces and padded to their widest cell; a dashed line under the header.
 */
final class Table {
    private Table() {}

    static void print(List<String[]> rows) {
        int columns = rows.getFirst().length;
        int[] widths = new int[columns];
        for (String[] row : rows) {
            for (int i = 0; i < columns; i++) {
                widths[i] = Math.max(widths[i], row[i].length());
            }
        }
        for (int r = 0; r < rows.size(); r++) {
            System.out.println(line(rows.get(r), widths));
            if (r == 0) {
                String[] dashes = new String[columns];
                for (int i = 0; i < columns; i++) {
                    dashes[i] = "-".repeat(widths[i]);
                }
                System.out.println(line(dashes, widths));
            }
        }
    }

    private static String line(String[] cells, int[] widths) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < cells.length; i++) {
            if (i > 0) {
                out.append("  ");
            }
            out.append(cells[i]);
            if (i < cells.length - 1) {
                out.append(" ".repeat(widths[i] - cells[i].length()));
            }
        }
        return out.toString().stripTrailing();
    }
}
