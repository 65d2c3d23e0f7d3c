-- The statements the demo shop runs (redline.demo.shop_app._app), for
--   redline db analyze sqlite:///PATH/shop.db --queries src/redline/demo/shop_app/queries.sql
-- Parameters are written as sample values, so each statement can be planned as is.

-- GET /products/{id}, and once per item in GET /orders/{id} (the N+1)
SELECT id, category_id, name, brand, price_cents, rating FROM products WHERE id = 17;

-- GET /categories
SELECT c.id, c.name, COUNT(p.id) AS products FROM categories c JOIN products p ON p.category_id = c.id GROUP BY c.id ORDER BY c.id;

-- GET /orders/{id}
SELECT id, customer, placed_day FROM orders WHERE id = 42;
SELECT product_id, quantity FROM order_items WHERE order_id = 42;

-- GET /search?brand=X
SELECT id, name, brand, price_cents, rating FROM products WHERE brand = 'brand-7' ORDER BY price_cents;

-- GET /recommendations/{id}
SELECT id, price_cents, rating, weight_g, brand FROM products WHERE category_id = 7 ORDER BY abs(price_cents - 5000) LIMIT 250;

-- GET /invoice/{id} and GET /checkout
SELECT SUM(p.price_cents * i.quantity) FROM order_items i JOIN products p ON p.id = i.product_id WHERE i.order_id = 42;
