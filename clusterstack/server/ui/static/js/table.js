// A data table: a real <table> with <th> headers, search, sort by column, paging, and an empty/error state.
// Paging and search go to the API (page, pagesize, keyword); sorting orders the page shown, as CloudStack's UI does.

import { h } from "./dom.js";

export class DataTable {
  // columns: [{key, label, render?(row) -> Node|string, value?(row) -> sortable, sortable?, wrap?, className?}]
  // load: async ({page, pagesize, keyword}) -> {items, count}
  constructor({ label, columns, load, rowActions = null, pagesize = 20, searchable = true, tools = [],
    empty = "Nothing to show.", compact = false, rowClass = null }) {
    this.columns = columns;
    this.load = load;
    this.rowActions = rowActions;
    this.rowClass = rowClass;
    this.pagesize = pagesize;
    this.page = 1;
    this.keyword = "";
    this.sort = null;
    this.items = [];
    this.count = 0;
    this.empty = empty;
    this.generation = 0;

    this.search = searchable
      ? h("input", { type: "search", placeholder: "Search", "aria-label": `Search ${label}` })
      : null;
    if (this.search) {
      let timer = null;
      this.search.addEventListener("input", () => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          this.keyword = this.search.value.trim();
          this.page = 1;
          this.reload();
        }, 250);
      });
    }
    this.summary = h("span", { class: "muted", role: "status" });
    this.headRow = h("tr", {}, columns.map((column) => this.header(column)),
      rowActions ? h("th", { scope: "col" }, "Actions") : null);
    this.body = h("tbody");
    this.table = h("table", { "aria-label": label, class: compact ? "compact" : null }, h("thead", {}, this.headRow), this.body);
    this.prev = h("button", { type: "button", class: "small", onclick: () => this.go(-1) }, "Previous");
    this.next = h("button", { type: "button", class: "small", onclick: () => this.go(1) }, "Next");
    this.pageLabel = h("span");
    this.element = h("section", { class: "data-table" },
      h("div", { class: "table-tools" }, h("div", { class: "tools-group" }, this.search, this.summary),
        h("div", { class: "tools-group" }, tools)),
      h("div", { class: "table-wrap" }, this.table),
      h("nav", { class: "pager", "aria-label": `${label} pages` }, this.prev, this.pageLabel, this.next));
  }

  header(column) {
    const th = h("th", { scope: "col" });
    if (column.sortable === false) {
      th.textContent = column.label;
      return th;
    }
    th.setAttribute("aria-sort", "none");
    const button = h("button", { type: "button", class: "sort" }, column.label);
    button.addEventListener("click", () => {
      const ascending = !(this.sort && this.sort.key === column.key && this.sort.ascending);
      this.sort = { key: column.key, ascending };
      for (const other of this.headRow.querySelectorAll("th[aria-sort]")) other.setAttribute("aria-sort", "none");
      th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      this.draw();
    });
    th.append(button);
    return th;
  }

  go(delta) {
    const last = Math.max(1, Math.ceil(this.count / this.pagesize));
    this.page = Math.min(last, Math.max(1, this.page + delta));
    this.reload();
  }

  async reload() {
    const generation = ++this.generation;
    this.element.setAttribute("aria-busy", "true");
    try {
      const { items, count } = await this.load({ page: this.page, pagesize: this.pagesize, keyword: this.keyword });
      if (generation !== this.generation) return;
      if (!items.length && this.page > 1 && count > 0) {
        this.page = Math.max(1, Math.ceil(count / this.pagesize));
        this.reload();
        return;
      }
      this.items = items;
      this.count = count;
      this.error = null;
    } catch (error) {
      if (generation !== this.generation) return;
      this.error = error;
    } finally {
      if (generation === this.generation) this.element.removeAttribute("aria-busy");
    }
    this.draw();
  }

  sorted() {
    if (!this.sort) return this.items;
    const column = this.columns.find((c) => c.key === this.sort.key);
    const value = column.value ?? ((row) => row[column.key]);
    const direction = this.sort.ascending ? 1 : -1;
    return [...this.items].sort((a, b) => {
      const x = value(a) ?? "";
      const y = value(b) ?? "";
      if (typeof x === "number" && typeof y === "number") return (x - y) * direction;
      return String(x).localeCompare(String(y), undefined, { numeric: true, sensitivity: "base" }) * direction;
    });
  }

  draw() {
    const width = this.columns.length + (this.rowActions ? 1 : 0);
    if (this.error) {
      this.body.replaceChildren(h("tr", {}, h("td", { class: "empty", colspan: width },
        h("span", { class: "status bad" }, "Error"), " ", this.error.message)));
    } else if (!this.items.length) {
      this.body.replaceChildren(h("tr", {}, h("td", { class: "empty", colspan: width }, this.empty)));
    } else {
      this.body.replaceChildren(...this.sorted().map((row) => h("tr", { dataset: { id: row.id ?? row.name ?? "" },
        class: this.rowClass?.(row) ?? null },
        this.columns.map((column) => h("td", { class: column.className ?? (column.wrap ? "wrap" : null) },
          column.render ? column.render(row) : (row[column.key] ?? ""))),
        this.rowActions ? h("td", {}, h("div", { class: "row-actions" }, this.rowActions(row))) : null)));
    }
    const pages = Math.max(1, Math.ceil(this.count / this.pagesize));
    this.summary.textContent = this.error ? "" : `${this.count} ${this.count === 1 ? "item" : "items"}`;
    this.pageLabel.textContent = `Page ${this.page} of ${pages}`;
    this.prev.disabled = this.page <= 1;
    this.next.disabled = this.page >= pages;
  }
}

// A table over a list already in memory (a failover cluster's roles, a VM's volumes): same look, local paging.
export function localLoader(getItems, searchKeys) {
  return async ({ page, pagesize, keyword }) => {
    let items = await getItems();
    if (keyword) {
      const needle = keyword.toLowerCase();
      items = items.filter((item) => searchKeys.some((key) => String(item[key] ?? "").toLowerCase().includes(needle)));
    }
    return { items: items.slice((page - 1) * pagesize, page * pagesize), count: items.length };
  };
}
